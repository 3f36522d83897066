"""A redaction corpus generated at run time: fake secrets with the right shapes, never real ones.

`planted_lines()` returns (log lines, the secret strings that must never leave the function).
`ordinary_lines()` returns lines that must pass through unchanged.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import string
from pathlib import Path

from tests.conftest import FIXTURES

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        # Random strings of these lengths mix cases and digits; insist, so the test is stable.
        if alphabet in (ALNUM, B64, URLSAFE) and n >= 20:
            if sum(c.isdigit() for c in s) < 2 or sum(c.isupper() for c in s) < 2:
                continue
            if sum(c.islower() for c in s) < 2:
                continue
        return s


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


CUSTOM_PATTERN = r"ACME-INTERNAL-[0-9]{8}"


def planted_lines(seed: int = 7) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    r = lambda alphabet, n: _rand(rng, alphabet, n)  # noqa: E731
    secrets: list[str] = []
    lines: list[str] = []

    def plant(secret: str, line: str) -> None:
        secrets.append(secret)
        lines.append(line)

    # PEM private key over several lines, as a cat'ed key file would print.
    body = [r(B64, 64) for _ in range(4)]
    lines.append("-----BEGIN RSA PRIVATE KEY-----")
    for b in body:
        plant(b, b)
    lines.append("-----END RSA PRIVATE KEY-----")
    # A service-account JSON key, printed on one line.
    pem_body = r(B64, 60)
    key_id = r(HEX, 40)
    sa = {
        "type": "service_account",
        "project_id": "acme-demo",
        "private_key_id": key_id,
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{pem_body}\n-----END PRIVATE KEY-----\n",
        "client_email": "deployer@acme-demo.iam.gserviceaccount.com",
    }
    secrets += [pem_body, key_id]
    lines.append(json.dumps(sa))
    google = "AIza" + r(URLSAFE, 35)
    plant(google, f"Using GOOGLE_MAPS key {google} for geocoding tests")
    for prefix in ("ghp_", "gho_", "ghu_", "ghr_"):
        token = prefix + r(ALNUM, 36)
        plant(token, f"remote: Invalid username or password ({token})")
    ghs = "ghs_" + r(ALNUM, 36)
    plant(ghs, f"git clone https://x-access-token:{ghs}@github.com/acme/payments-api.git")
    pat = "github_pat_" + r(ALNUM, 22) + "_" + r(ALNUM, 59)
    plant(pat, f"echo {pat} | gh auth login --with-token")
    gl = "glpat-" + r(URLSAFE, 20)
    plant(gl, f'curl --header "PRIVATE-TOKEN: {gl}" https://gitlab.example.com/api/v4/projects')
    xoxb = "xoxb-" + r(string.digits, 12) + "-" + r(string.digits, 13) + "-" + r(ALNUM, 24)
    plant(xoxb, f"slack notify failed with token {xoxb}")
    xoxp = "xoxp-" + r(string.digits, 12) + "-" + r(string.digits, 12) + "-" + r(ALNUM, 32)
    plant(xoxp, f"SLACK_USER_TOKEN set to {xoxp}")
    team, channel = r(UPPER_DIGITS, 8), r(UPPER_DIGITS, 10)
    hook = f"https://hooks.slack.com/services/T{team}/B{channel}/{r(ALNUM, 24)}"
    plant(hook, f"POST {hook} -> 404 no_service")
    akia = "AKIA" + r(UPPER_DIGITS, 16)
    plant(akia, f"aws_access_key_id = {akia}")
    aws_secret = r(B64, 40)
    plant(aws_secret, f"aws_secret_access_key = {aws_secret}")
    sk = "sk_live_" + r(ALNUM, 24)
    plant(sk, f"stripe.error.AuthenticationError: Invalid API Key provided: {sk}")
    rk = "rk_live_" + r(ALNUM, 24)
    plant(rk, f"STRIPE_RESTRICTED={rk}")
    npm = "npm_" + r(ALNUM, 36)
    plant(npm, f"//registry.npmjs.org/:_authToken={npm}")
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": r(ALNUM, 10), "iat": 1700000000}).encode())
    jwt = f"{header}.{payload}.{r(URLSAFE, 43)}"
    plant(jwt, f"id_token received: {jwt}")
    bearer = r(URLSAFE, 30) + "." + r(URLSAFE, 12)
    plant(bearer, f'curl -sf -H "Authorization: Bearer {bearer}" https://api.example.com/deploy')
    bearer2 = r(ALNUM, 28)
    plant(bearer2, f"> authorization: bearer {bearer2}")
    basic_pw = r(ALNUM, 12)
    basic = base64.b64encode(f"ci-bot:{basic_pw}".encode()).decode()
    plant(basic, f"Authorization: Basic {basic}")
    url_pw = r(ALNUM, 14)
    plant(url_pw, f"psql postgres://app:{url_pw}@10.0.0.5:5432/payments -c 'select 1'")
    url_pw2 = r(ALNUM, 10) + "!x"
    plant(
        url_pw2, f"pip install --index-url https://deploy:{url_pw2}@pypi.acme.dev/simple acme-lib"
    )
    db = r(ALNUM, 16)
    plant(db, f"DB_PASSWORD={db}")
    api = r(ALNUM, 32)
    plant(api, f"  api_key: {api}")
    client_secret = r(URLSAFE, 24)
    plant(client_secret, f'{{"client_id": "web", "client_secret": "{client_secret}"}}')
    token = r(ALNUM, 20)
    plant(token, f"export SENTRY_AUTH_TOKEN='{token}'")
    flag_pw = r(ALNUM, 12)
    plant(flag_pw, f"mysql -h db -u root --password {flag_pw} payments")
    cred = r(ALNUM, 18)
    plant(cred, f"registry credential={cred}")
    passwd = r(ALNUM, 11)
    plant(passwd, f'  "password": "{passwd}",')
    yaml_secret = r(ALNUM, 24)
    plant(yaml_secret, f"MY_APP_SECRET: {yaml_secret}")
    entropy = r(B64, 48)
    plant(entropy, f"generated session material {entropy} for run")
    entropy2 = r(URLSAFE, 40)
    plant(entropy2, f"signing with {entropy2}")
    ya29 = "ya29." + r(URLSAFE, 60)
    plant(ya29, f"gcloud auth print-access-token -> {ya29}")
    custom = "ACME-INTERNAL-" + r(string.digits, 8)
    plant(custom, f"license {custom} accepted")
    # The contexts a value can hide in (issue: context-invariant redaction).
    env_token = r(ALNUM, 26)
    plant(env_token, f"env: DEPLOY_TOKEN={env_token}")
    flag_key = r(ALNUM, 30)
    plant(flag_key, f"Running: gcloud alpha deploy --api-key={flag_key} --region=us-central1")
    set_env = r(ALNUM, 22)
    plant(
        set_env,
        "gcloud run deploy payments --set-env-vars="
        f"LOG_LEVEL=debug,STRIPE_WEBHOOK_SECRET={set_env},REGION=us",
    )
    api_header = r(HEX, 40)
    plant(api_header, f"curl -sS -H 'X-Api-Key: {api_header}' https://status.acme.dev/ping")
    login_pw = r(ALNUM, 16)
    plant(login_pw, f"docker login -u ci-bot -p {login_pw} registry.acme.dev")
    bare_hex = r(HEX, 48)
    plant(bare_hex, f"requesting artifact with token={bare_hex}")
    # Provider formats (buildlens_core/secret_formats.toml).
    openai = "sk-proj-" + r(URLSAFE, 24) + "T3BlbkFJ" + r(URLSAFE, 24)
    plant(openai, f"openai.AuthenticationError: Incorrect API key provided: {openai}")
    anthropic = "sk-ant-api03-" + r(URLSAFE, 93) + "AA"
    plant(anthropic, f'ANTHROPIC_API_KEY="{anthropic}"')
    hf = "hf_" + r(string.ascii_letters, 34)
    plant(hf, f"huggingface-cli login --token {hf}")
    pypi = "pypi-AgEIcHlwaS5vcmc" + r(URLSAFE, 60)
    plant(pypi, f"twine upload -u __token__ -p {pypi} dist/*")
    sendgrid = "SG." + r(URLSAFE, 22) + "." + r(URLSAFE, 43)
    plant(sendgrid, f"sendgrid client configured ({sendgrid})")
    twilio = "SK" + r(HEX, 32)
    plant(twilio, f"twilio api:core:keys:fetch --sid {twilio}")
    mailgun = "key-" + r(ALNUM, 32)
    plant(mailgun, f"mailgun: using {mailgun} for domain mg.acme.dev")
    shopify = "shpat_" + r(HEX, 32)
    plant(shopify, f"X-Shopify-Access-Token: {shopify}")
    azure = r(B64, 86) + "=="
    plant(
        azure,
        "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmelogs;"
        f"AccountKey={azure};EndpointSuffix=core.windows.net",
    )
    discord = f"https://discord.com/api/webhooks/{r(string.digits, 18)}/{r(URLSAFE, 68)}"
    plant(discord, f"notify: POST {discord} -> 204")
    docker_auth = base64.b64encode(f"_json_key:{r(ALNUM, 20)}".encode()).decode()
    plant(docker_auth, f'{{"auths": {{"us-docker.pkg.dev": {{"auth": "{docker_auth}"}}}}}}')
    mongo_pw = r(ALNUM, 15)
    plant(mongo_pw, f"MONGO_URL=mongodb+srv://app:{mongo_pw}@cluster0.abcde.mongodb.net/prod")
    gldt = "gldt-" + r(URLSAFE, 20)
    plant(gldt, f"git clone https://gitlab+deploy-token:{gldt}@gitlab.com/acme/infra.git")
    return lines, secrets


def ordinary_lines() -> list[str]:
    sha = "e2b9c1c3620264e5fea673c7f503a61c7e66b098"
    digest = "sha256:12de74df8adbc0b75d9f9c5f0b86937b89fbcc50975235ae864ada110ca75e4e"
    return [
        f" * branch            {sha} -> FETCH_HEAD",
        "HEAD is now at e2b9c1c Round invoice totals with banker's rounding",
        f"Digest: {digest}",
        f"gcr.io/acme-demo/payments-api@{digest}",
        'starting build "f8014d9a-15cd-4667-ae1d-39392e23abd8"',
        "e9246037d5a5: Pull complete",
        "tests/test_auth.py::test_token_refresh_with_expired_password FAILED",
        "FAILED tests/test_secrets.py::test_rotate_api_key[aws] - AssertionError",
        "--- FAIL: TestSecretRotation/rotates_keys (0.01s)",
        "    at com.acme.auth.TokenService.refresh(TokenService.java:42)",
        "error[E0425]: cannot find value `api_key` in this scope",
        "npm error code E401",
        '"integrity": "sha512-7ZyRQ6CJd1MFdlW3DyzmBS7B0e2f3hSHDE5kRmTR1BSwz0Kp6pQrZHy5H4O5'
        'fLG5Ln8R6EtXeiUbuv3oJLzqXw=="',
        "github.com/stretchr/testify v1.9.0 h1:HtqpIVDClZ4nwg75+xtfqfC9Uw0wB5nbqefO9IRnXNQ=",
        "cache key: deps-v2",
        "Using password authentication for user deployer",
        "docker login -u _json_key --password-stdin https://gcr.io",
        "Successfully built 3f9a2b1c4d5e",
        'Step #0 - "install": Pulling image: python:3.11-slim',
        "/workspace/migrations/versions/c72e19f4d3b8_add_invoice_currency.py",
        "Traceback (most recent call last):",
        '  File "/usr/lib/python3.11/site-packages/requests/adapters.py", line 486, in send',
        'ERROR: build step 1 "python:3.11-slim" failed: step exited with non-zero status: 1',
    ]


CASE = "pytest-failure"
STEP = 'Step #1 - "unit-tests": '


def planted_build(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """The pytest-failure fixture with the corpus printed by the failing step."""
    lines, secrets = planted_lines()
    folder = tmp_path / "planted"
    folder.mkdir()
    shutil.copy(FIXTURES / CASE / "build.json", folder / "build.json")
    log = (FIXTURES / CASE / "log.txt").read_text().splitlines()
    at = max(i for i, line in enumerate(log) if line.startswith(STEP))
    extra = [STEP + line for line in lines + ordinary_lines()]
    (folder / "log.txt").write_text("\n".join(log[:at] + extra + log[at:]) + "\n")
    return folder, lines, secrets
