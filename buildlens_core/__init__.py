"""The lower layer that `notifier` and `analyzers` share and that imports neither.

- `build`: the Build from Cloud Build's Pub/Sub message (`BuildEvent`, `Step`).
- `buildlog`: a log as numbered lines with their step (`BuildLog`, `LogLine`).
- `errors`: `PermanentError`, `TransientError`, `ConfigError`.
- `config`: where settings are read from (`settings_config`, `CONFIG_ENV`).
- `settings`: the one `Settings` object, its sections and `load_settings`; each sink and LLM
  analyzer adds its own section class.
- `secrets`: `sm://` Secret Manager references.
- `jsonlog`: one JSON object per log line, as Cloud Logging reads it.
- `state`: the state-store protocol.
- `noise`: terminal codes and progress noise stripped from log lines.
- `redact`: the secret redactor and its provider formats (`secret_formats.toml`).

See docs/ARCHITECTURE.md section 4.
"""
