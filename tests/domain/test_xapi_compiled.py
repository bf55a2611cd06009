"""The statement checks run compiled (``make compile``), agree with their source, refuse staleness.

``make test`` compiles :data:`impactlens.domain.xapi.COMPILED` with mypyc before the
suite, so every other test exercises the compiled modules the server runs. mypyc
enforces annotations at run time and has its own int/float rules, so the source (what an
install without the extensions runs) is compared with the compiled modules on a corpus
of valid and invalid statements: same checked statement, same rows, same refusals.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from tests.domain.test_xapi_validation import BASE, with_
from tests.ingest.xapi_statements import statement

import impactlens.domain.xapi as xapi

SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))

# Checks each statement of the corpus file and prints, per statement, the checked
# statement and its row, or the refusal. With "source", impactlens.domain.xapi's modules
# are loaded from their .py files even where an extension is beside them.
RUN = """
import json, sys
if sys.argv[2] == "source":
    from impactlens.domain.xapi import use_source
    use_source()
import dataclasses
from impactlens.domain.xapi import validation, rows
from impactlens.domain.xapi.errors import XapiError
names = [f.name for f in dataclasses.fields(rows.StatementRow) if f.name != "statement"]
out = [validation.__file__.rsplit(".", 1)[-1]]
for st in json.load(open(sys.argv[1])):
    version = st.get("version", "1.0.3") if isinstance(st, dict) else "1.0.3"
    try:
        checked = validation.check_statement(st, version=version)
        row = rows.pending_row(checked, authority={"mbox": "mailto:lrs@example.com"})
        fields = repr([getattr(row, name) for name in names]).replace(rows.STORED_MARK, "MARK")
        if "id" not in st:  # the LRS's own, random
            fields = fields.replace(row.statement_id, "ASSIGNED")
        out.append(["ok", checked, fields, row.timestamp_pending])
    except XapiError as exc:
        out.append(["refused", exc.status, str(exc)])
print(json.dumps(out))
"""


def corpus() -> list[Any]:
    """Statements of every shape the checks treat: valid, invalid, numbers at their edges."""
    sub = {
        "objectType": "SubStatement",
        "actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]},
        "verb": {"id": "http://example.com/verbs/planned"},
        "object": {"objectType": "Agent", "account": {"homePage": "http://x.org", "name": "a"}},
        "context": {"contextActivities": {"parent": {"id": "http://example.com/p"}}},
    }
    variants = [
        ("result.score", {"scaled": 1, "raw": 5, "min": 0, "max": 10}),
        ("result.score", {"raw": 2**70, "max": 2**71}),
        ("result.score.raw", 10.0),
        ("result.extensions", {"http://example.com/big": 2**70, "http://example.com/f": 1e300}),
        ("result.duration", "P1Y2M3W"),
        ("result.duration", "PT0.5S"),
        ("result.success", 1),
        ("timestamp", "2024-03-01T10:00:00.123456789-05:30"),
        ("timestamp", "2024-03-01T10:00:00"),
        ("timestamp", 20240301),
        ("id", "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"),
        ("id", 7),
        ("actor", "ann"),
        ("actor", {"mbox_sha1sum": "ab" * 20}),
        ("actor", {"objectType": "Group", "name": "G", "member": []}),
        ("actor", {"objectType": "Group", "member": [{"openid": "http://id.example.com/a"}]}),
        ("verb.display", {"en-US": "done", "zh-Hant-TW": "完成"}),
        ("verb.display", ["en"]),
        ("object", sub),
        ("object", {"objectType": "StatementRef", "id": "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"}),
        ("object.definition.interactionType", "choice"),
        ("context.contextActivities", {"grouping": [{"id": "http://example.com/g"}]}),
        ("context.contextActivities", {"other": {"id": "nope"}}),
        ("context.instructor", {"mbox": "mailto:i@example.com"}),
        ("context.statement", {"objectType": "StatementRef", "id": BASE["id"]}),
        ("version", "1.0.9"),
        ("version", "2.0.0"),
        ("attachments", [{"usageType": "http://x.org/u", "display": {"en": "a"},
                          "contentType": "text/plain", "length": 3, "sha2": "ab"}]),
        ("attachments", [{"usageType": "http://x.org/u"}]),
        ("stored", "2024-03-01T10:00:00Z"),
        ("result", None),
        ("context", None),
        ("timestamp", None),
        ("id", None),
    ]  # fmt: skip
    return [
        copy.deepcopy(BASE),
        *(with_(path, value) for path, value in variants),
        *(statement(n) for n in range(30)),
        [],
        "statement",
    ]


def checked(corpus_file: Path, mode: str) -> list[Any]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(corpus_file), mode],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_the_statement_checks_run_compiled() -> None:
    # make test compiles them first (scripts/compile-checks.sh): the rest of the suite
    # tests what the server runs, and the POST figures of docs/performance.md count on it
    for name in xapi.COMPILED:
        module = importlib.import_module(f"impactlens.domain.xapi.{name}")
        assert str(module.__file__).endswith(SUFFIX), f"{name} is not compiled: make compile"
    assert all(xapi.compiled_modules().values())


def test_compiled_and_source_checks_agree(tmp_path: Path) -> None:
    statements = tmp_path / "corpus.json"
    statements.write_text(json.dumps(corpus()))
    compiled, source = checked(statements, "compiled"), checked(statements, "source")
    assert (compiled[0], source[0]) == ("so", "py")
    assert len(compiled) == len(corpus()) + 1
    for n, (a, b) in enumerate(zip(compiled[1:], source[1:], strict=True)):
        assert a == b, f"statement {n} of the corpus"
    outcomes = {entry[0] for entry in compiled[1:]}
    assert outcomes == {"ok", "refused"}


def test_an_extension_older_than_its_source_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rows.py").write_text("")
    ext = tmp_path / f"rows{SUFFIX}"
    ext.write_bytes(b"")
    os.utime(ext, (1_000_000_000, 1_000_000_000))
    monkeypatch.setattr(xapi, "_HERE", tmp_path)
    with pytest.raises(ImportError, match=r"rows.* was compiled before .* run `make compile`"):
        xapi.compiled_modules()
    os.utime(ext)  # compiled after the source's last change
    assert xapi.compiled_modules() == {name: name == "rows" for name in xapi.COMPILED}
