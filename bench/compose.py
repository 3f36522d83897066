"""Composed Cloud Build cases: real tool output placed inside Cloud Build's log shapes.

    python -m bench.compose            # write cases/<id>/ for every composed/<id>/
    python -m bench.compose --check    # verify the committed cases; writes nothing

Where public Cloud Build logs run short for a tool family, real failing output of that tool
from another CI system (`composed/<id>/tool-output.txt`, its source in `source.json`) is placed
in one of the shapes Cloud Build prints around a command, as seen in the real corpus: a builder
step, a Dockerfile RUN under the legacy builder, BuildKit or Kaniko, or a buildpack build. The
labels of `compose.json` are shifted to the composed log; the case says `composed: true` and is
scored apart. Ids, digests and times derive from the case id, so rewriting is byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "cloudbuild"
SOURCES = DATA / "composed"
CASES = DATA / "cases"
SHAPES = ("step", "docker", "buildkit", "kaniko", "buildpacks")
REPEAT_LINES = 10  # BuildKit repeats the failed instruction's last lines


@dataclass(frozen=True, slots=True)
class Spec:
    id: str
    shape: str
    command: str
    image: str
    output: list[str]


def _hex(n: int, *parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _uuid(case: str) -> str:
    h = _hex(32, case, "build")
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def _header(spec: Spec) -> list[str]:
    bucket = f"gs://{_hex(6, spec.id, 'project')}-proj_cloudbuild"
    obj = f"source/17{_hex(8, spec.id, 't')}.tgz"
    return [
        f'starting build "{_uuid(spec.id)}"',
        "",
        "FETCHSOURCE",
        f"Fetching storage object: {bucket}/{obj}",
        f"Copying {bucket}/{obj}...",
        "Operation completed over 1 objects.",
        "BUILD",
    ]


def _trailer(step: int, label: str, image: str, code: int = 1) -> list[str]:
    return [
        f"Finished Step #{step} - {label}",
        "ERROR",
        f'ERROR: build step {step} "{image}" failed: step exited with non-zero status: {code}',
    ]


def _pull(spec: Spec, image: str) -> list[str]:
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    layers = [_hex(12, spec.id, image, str(i)) for i in range(3)]
    return [
        f"Pulling image: {image}",
        f"{tag}: Pulling from {image.rsplit(':', 1)[0]}",
        *(f"{layer}: Pulling fs layer" for layer in layers),
        *(f"{layer}: Pull complete" for layer in layers),
        f"Digest: sha256:{_hex(64, spec.id, image, 'digest')}",
        f"Status: Downloaded newer image for {image}",
    ]


def _step(spec: Spec) -> tuple[list[str], int]:
    label = f'"{spec.command.split()[0]}"'
    body = [*_pull(spec, spec.image)]
    first = len(body)
    body += spec.output
    return _in_step(spec, 0, label, body, spec.image, first)


def _in_step(
    spec: Spec, step: int, label: str, body: list[str], image: str, first: int
) -> tuple[list[str], int]:
    head = [*_header(spec), f"Starting Step #{step} - {label}"]
    prefix = f"Step #{step} - {label}:"
    lines = head + [f"{prefix} {t}" if t else prefix for t in body]
    return lines + _trailer(step, label, image), len(head) + first


def _dockerfile(spec: Spec) -> list[str]:
    return [f"FROM {spec.image}", "WORKDIR /app", "COPY . .", f"RUN {spec.command}"]


def _docker(spec: Spec) -> tuple[list[str], int]:
    steps = _dockerfile(spec)
    body = [
        "Already have image (with digest): gcr.io/cloud-builders/docker",
        f"Sending build context to Docker daemon  {int(_hex(4, spec.id, 'ctx'), 16) % 900}.5kB",
    ]
    for i, instruction in enumerate(steps[:-1], 1):
        body.append(f"Step {i}/{len(steps)} : {instruction}")
        if i == 1:
            body += _pull(spec, spec.image)[1:]
        body.append(f" ---> {_hex(12, spec.id, 'layer', str(i))}")
    body.append(f"Step {len(steps)}/{len(steps)} : {steps[-1]}")
    body.append(f" ---> Running in {_hex(12, spec.id, 'run')}")
    first = len(body)
    body += spec.output
    body.append(f"The command '/bin/sh -c {spec.command}' returned a non-zero code: 1")
    return _in_step(spec, 0, '"build"', body, "gcr.io/cloud-builders/docker", first)


def _buildkit(spec: Spec) -> tuple[list[str], int]:
    steps = _dockerfile(spec)
    n = len(steps)
    body = [
        "Already have image (with digest): gcr.io/cloud-builders/docker",
        '#0 building with "default" instance using docker driver',
        "",
        "#1 [internal] load build definition from Dockerfile",
        "#1 transferring dockerfile: 141B done",
        "#1 DONE 0.0s",
        "",
        f"#2 [internal] load metadata for docker.io/library/{spec.image}",
        "#2 DONE 0.9s",
        "",
        f"#3 [1/{n}] FROM docker.io/library/{spec.image}@sha256:{_hex(64, spec.id, 'base')}",
        "#3 DONE 4.1s",
        "",
        "#4 [internal] load build context",
        "#4 transferring context: 1.21MB 0.1s done",
        "#4 DONE 0.1s",
        "",
        f"#5 [2/{n}] {steps[1]}",
        "#5 DONE 0.1s",
        "",
        f"#6 [3/{n}] {steps[2]}",
        "#6 DONE 0.2s",
        "",
        f"#7 [4/{n}] {steps[3]}",
    ]
    first = len(body)
    timed = [(f"{0.3 + 0.05 * i:.3f}", line) for i, line in enumerate(spec.output)]
    failed = f'process "/bin/sh -c {spec.command}" did not complete successfully: exit code: 1'
    body += [f"#7 {t} {line}" for t, line in timed]
    body += [
        f"#7 ERROR: {failed}",
        "------",
        f" > [4/{n}] {steps[3]}:",
        *(f"{t} {line}" for t, line in timed[-REPEAT_LINES:]),
        "------",
        "Dockerfile:4",
        "--------------------",
        f"   2 |     {steps[1]}",
        f"   3 |     {steps[2]}",
        f"   4 | >>> {steps[3]}",
        "--------------------",
        f"ERROR: failed to solve: {failed}",
    ]
    return _in_step(spec, 0, '"build"', body, "gcr.io/cloud-builders/docker", first)


def _kaniko(spec: Spec) -> tuple[list[str], int]:
    steps = _dockerfile(spec)
    body = [
        "Pulling image: gcr.io/kaniko-project/executor:latest",
        f"Digest: sha256:{_hex(64, spec.id, 'kaniko')}",
        "Status: Downloaded newer image for gcr.io/kaniko-project/executor:latest",
        f"INFO[0000] Retrieving image manifest {spec.image}",
        f"INFO[0000] Retrieving image {spec.image} from registry index.docker.io",
        "INFO[0001] Built cross stage deps: map[]",
        "INFO[0001] Executing 0 build triggers",
        f"INFO[0001] Building stage '{spec.image}' [idx: '0', base-idx: '-1']",
        "INFO[0003] Unpacking rootfs as cmd RUN requires it.",
        f"INFO[0009] {steps[1]}",
        "INFO[0009] Cmd: workdir",
        f"INFO[0009] {steps[2]}",
        "INFO[0009] Taking snapshot of files...",
        f"INFO[0010] {steps[3]}",
        "INFO[0010] Cmd: /bin/sh",
        f"INFO[0010] Args: [-c {spec.command}]",
        f"INFO[0010] Running: [/bin/sh -c {spec.command}]",
    ]
    first = len(body)
    body += spec.output
    body.append(
        "error building image: error building stage: failed to execute command: waiting for"
        " process to exit: exit status 1"
    )
    return _in_step(spec, 0, '"build"', body, "gcr.io/kaniko-project/executor:latest", first)


def _buildpacks(spec: Spec) -> tuple[list[str], int]:
    body = [
        "Already have image (with digest): gcr.io/k8s-skaffold/pack",
        "latest: Pulling from buildpacks/builder",
        f"Digest: sha256:{_hex(64, spec.id, 'builder')}",
        "===> ANALYZING",
        '[analyzer] Image with name "app" not found',
        "===> DETECTING",
        "[detector] 3 of 5 buildpacks participating",
        "===> RESTORING",
        "===> BUILDING",
        f'[builder] Running "{spec.command}"',
    ]
    first = len(body)
    body += [f"[builder] {line}" if line else "[builder]" for line in spec.output]
    body += [
        f'[builder] Done "{spec.command}" (4.2s)',
        "[builder] ERROR: failed to build: exit status 1",
        "ERROR: failed to build: executing lifecycle: failed with status code: 51",
    ]
    return _in_step(spec, 0, '"pack"', body, "gcr.io/k8s-skaffold/pack", first)


LAYOUTS: dict[str, Callable[[Spec], tuple[list[str], int]]] = {
    "step": _step,
    "docker": _docker,
    "buildkit": _buildkit,
    "kaniko": _kaniko,
    "buildpacks": _buildpacks,
}


def compose(folder: Path) -> dict[str, str]:
    """The files of `cases/<id>/` for one composed source folder."""
    spec_json = json.loads((folder / "compose.json").read_text(encoding="utf-8"))
    source = json.loads((folder / "source.json").read_text(encoding="utf-8"))
    text = (folder / "tool-output.txt").read_text(encoding="utf-8")
    shape = spec_json["shape"]
    if shape not in LAYOUTS:
        raise SystemExit(f"{folder.name}: shape {shape!r} is not one of {', '.join(SHAPES)}")
    spec = Spec(folder.name, shape, spec_json["command"], spec_json["image"], text.split("\n")[:-1])
    lines, first = LAYOUTS[shape](spec)
    offset = first  # tool line k (1-based) is log line offset + k
    label = {
        "failing_step": 0,
        "key_lines": [[a + offset, b + offset] for a, b in spec_json["key_lines"]],
        "category": spec_json["category"],
        "cause": spec_json["cause"],
        "family": spec_json["family"],
    }
    notes = f"{source.get('notes', '')} Composed by bench/compose.py ({shape} shape).".strip()
    source = {**source, "composed": True, "notes": notes}
    return {
        "log.txt": "\n".join(lines) + "\n",
        "label.json": json.dumps(label, indent=2) + "\n",
        "source.json": json.dumps(source, indent=2) + "\n",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="verify; write nothing")
    args = parser.parse_args(argv)
    stale: list[str] = []
    for folder in sorted(p for p in SOURCES.iterdir() if p.is_dir()) if SOURCES.is_dir() else []:
        out = CASES / folder.name
        for name, text in compose(folder).items():
            path = out / name
            if args.check:
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    stale.append(str(path))
                continue
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale: " + ", ".join(stale) + "; run python -m bench.compose", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
