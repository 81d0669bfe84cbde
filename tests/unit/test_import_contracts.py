"""The direction of imports (DESIGN.md "Layers") as `import-linter` contracts: the layers
admin_web > fixtures > pbx > storage, a pure engine / policies / SIP layer, and no cycles
between the service packages. The contracts live in pyproject.toml ([tool.importlinter])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(command), "--no-cache", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_every_import_contract_is_kept() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_forbidden_import_breaks_a_contract(tmp_path: Path) -> None:
    """The checker is not vacuous: a policy that imports the database fails it."""
    (tmp_path / "pbx" / "policies").mkdir(parents=True)
    (tmp_path / "storage").mkdir()
    (tmp_path / "pbx" / "__init__.py").write_text("")
    (tmp_path / "pbx" / "policies" / "__init__.py").write_text("import storage\n")
    (tmp_path / "storage" / "__init__.py").write_text("")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_packages =\n    pbx\n    storage\n\n"
        "[importlinter:contract:pure]\nname = pure\ntype = forbidden\n"
        "source_modules =\n    pbx.policies\nforbidden_modules =\n    storage\n"
    )
    result = lint_imports("--config", str(tmp_path / ".importlinter"), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
