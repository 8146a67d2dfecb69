"""Issue 13: problem codes and apply statuses are types with one registry each; no code or status is
spelled out as a literal where it is used (this test reads the source to make sure)."""
from __future__ import annotations

import ast
from pathlib import Path

from bcdc_bulk.problems import Code
from bcdc_bulk.results import Status

SOURCE = Path(__file__).resolve().parents[1] / "bcdc_bulk"
CODES = {c.value for c in Code}
STATUSES = {s.value for s in Status}
MODULES = sorted(SOURCE.rglob("*.py"))  # the web extension's too


def _literals(node: ast.AST) -> list[ast.Constant]:
    """String constants in a node, or in a tuple, list or set of them; an f-string as the text of its
    constant parts (f"{kind}-format" -> "-format", f"choice{''}" -> "choice")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return [ast.Constant(value=text, lineno=node.lineno)] + [
            ast.Constant(value=text.strip("-"), lineno=node.lineno)] * (text != text.strip("-"))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [c for e in node.elts for c in _literals(e)]
    return []


def _named(node: ast.AST, *names: str) -> bool:
    return (isinstance(node, ast.Name) and node.id in names) or (isinstance(node, ast.Attribute) and node.attr in names)


def spelled_out(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, literal) of every code or status written as a string where one is compared, passed or returned."""
    found = []
    for node in ast.walk(tree):
        candidates: list[ast.Constant] = []
        if isinstance(node, ast.Compare) and (_named(node.left, "code", "status") or any(
                _named(c, "code", "status") for c in node.comparators)):
            for side in [node.left, *node.comparators]:
                candidates += _literals(side)
        elif isinstance(node, ast.Call) and _named(node.func, "Issue", "Problem", "problem", "RowResult"):
            for arg in node.args:
                candidates += _literals(arg) if not isinstance(arg, ast.Tuple) else []
            candidates += [c for k in node.keywords if k.arg in ("code", "status") for c in _literals(k.value)]
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and node.value.elts:
            candidates += _literals(node.value.elts[0])
        elif isinstance(node, ast.Dict):
            candidates += [v for k, v in zip(node.keys, node.values, strict=True)
                           if isinstance(k, ast.Constant) and k.value == "x-code" for v in _literals(v)]
        found += [(c.lineno, c.value) for c in candidates if c.value in CODES | STATUSES]
    return found


def test_no_code_or_status_is_spelled_out_outside_its_registry():
    offenders = {}
    for path in MODULES:
        hits = spelled_out(ast.parse(path.read_text(encoding="utf-8")))
        if hits:
            offenders[path.name] = hits
    assert offenders == {}


def test_the_check_finds_a_spelled_out_code():
    sample = 'if problem.code == "choice":\n    pass\nissue = Issue(path, "required", "m", ERROR)\n'
    assert spelled_out(ast.parse(sample)) == [(1, "choice"), (3, "required")]
    built = 'Problem(sheet, row, col, f, v, f"{kind}-format", m)\nif status == f"{\'\'}conflict":\n    pass\n'
    assert spelled_out(ast.parse(built)) == [(1, "format"), (2, "conflict")]


def test_codes_and_statuses_read_as_their_values():
    assert f"{Code.CHOICE}" == str(Code.CHOICE) == "choice" and Code("typed-number") is Code.TYPED_NUMBER
    assert f"{Status.APPLIED:<9}|" == "applied  |" and {Status.FAILED: 1}["failed"] == 1
    assert all(code.fix for code in Code)


def longer_than(limit: int, kinds: tuple[type, ...], paths: list[Path]) -> list[str]:
    """'module:name (n lines)' of every function or class of these kinds over ``limit`` lines."""
    long = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, kinds) and node.end_lineno - node.lineno + 1 > limit:
                long.append(f"{path.parent.name}/{path.name}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    return long


FUNCTIONS, CLASSES = (ast.FunctionDef, ast.AsyncFunctionDef), (ast.ClassDef,)


def test_no_function_is_longer_than_sixty_lines():
    assert longer_than(60, FUNCTIONS, MODULES) == []


def test_no_class_is_longer_than_two_hundred_lines():
    assert longer_than(200, CLASSES, MODULES) == []


def test_the_size_checks_find_what_is_too_long(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("class Big:\n" + "    x = 1\n" * 200 + "\n\ndef long():\n" + "    pass\n" * 60)
    assert longer_than(200, CLASSES, [sample]) == [f"{tmp_path.name}/sample.py:Big (201 lines)"]
    assert longer_than(60, FUNCTIONS, [sample]) == [f"{tmp_path.name}/sample.py:long (61 lines)"]
    assert longer_than(201, CLASSES, [sample]) == longer_than(61, FUNCTIONS, [sample]) == []


PUBLIC = {"bcdc_bulk", "bcdc_bulk.errors", "bcdc_bulk.problems"}  # the API, its errors, its registries


def reaches_past_the_api(paths: list[Path]) -> list[str]:
    """'module: name' of every import of bcdc_bulk's internals (not its public API) in these modules."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            found += [f"{path.name}: {n}" for n in names
                      if n.startswith("bcdc_bulk") and n not in PUBLIC and not n.startswith("bcdc_bulk.web")]
    return found


def test_the_web_extension_uses_the_public_api_only():
    """The extension is a shell over the library's API (bcdc_bulk: connect_as, check().page(), apply,
    report ...), as the command line is: it never walks a plan or calls a planner itself."""
    assert reaches_past_the_api(sorted((SOURCE / "web").glob("*.py"))) == []


def test_the_api_check_finds_an_internal_import(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text("import bcdc_bulk as bb\nfrom bcdc_bulk.errors import BulkError\n"
                      "from bcdc_bulk.web import jobs\nfrom bcdc_bulk.planning import build_plan\n"
                      "def f():\n    import bcdc_bulk.validation\n")
    assert reaches_past_the_api([sample]) == ["views.py: bcdc_bulk.planning", "views.py: bcdc_bulk.validation"]


HELD = ("planning.py", "diffing.py", "validation.py")  # the modules whose problems the registry words


def worded_in_place(tree: ast.AST) -> list[int]:
    """Lines where a problem is given its message as text written there (a literal or an f-string)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _named(node.func, "problem", "CellIssue", "Problem", "Issue"):
            texts = [a for a in [*node.args, *(k.value for k in node.keywords)]
                     if isinstance(a, ast.JoinedStr) or (isinstance(a, ast.Constant) and isinstance(a.value, str)
                                                         and " " in a.value)]
            found += [t.lineno for t in texts]
    return found


def text_in(tree: ast.AST) -> list[int]:
    """Lines of message text (words and a space, or an f-string) anywhere in a tree, docstrings aside."""
    docs = {id(n.body[0].value) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))
            and n.body and isinstance(n.body[0], ast.Expr)}
    return [n.lineno for n in ast.walk(tree) if id(n) not in docs and isinstance(n, ast.JoinedStr) or (
        id(n) not in docs and isinstance(n, ast.Constant) and isinstance(n.value, str) and " " in n.value
        and any(c.isalpha() for c in n.value))]


def test_the_registry_words_the_problems_of_planning_and_reading_cells():
    assert {name: worded_in_place(ast.parse((SOURCE / name).read_text(encoding="utf-8"))) for name in HELD} == {
        name: [] for name in HELD}
    # the schema's refusals: what was a 58-line chain of messages only picks a code and its variant now
    checker = next(n for n in ast.walk(ast.parse((SOURCE / "validation.py").read_text(encoding="utf-8")))
                   if isinstance(n, ast.ClassDef) and n.name == "RecordChecker")
    picks = [f for f in checker.body if isinstance(f, ast.FunctionDef) and f.name in ("_message", "_not_listed",
                                                                                      "_required_message")]
    module = ast.parse((SOURCE / "validation.py").read_text(encoding="utf-8")).body
    picks += [f for f in module if isinstance(f, ast.FunctionDef) and f.name in (
        "name_message", "choice_message", "_edge_words", "check_state", "check_permission", "check_delete",
        "check_unique", "check_uploads")]
    assert len(picks) == 11 and {f.name: text_in(f) for f in picks} == {f.name: [] for f in picks}
    sample = 'def f(y):\n    """A docstring is no message."""\n    return ", ".join(y), "a message here", f"x{y}"\n'
    assert text_in(ast.parse(sample)) == [3, 3]
    sample = 'self.problem(sheet, 3, "name", v, Code.NAME, f"bad {v}")\nCellIssue(3, f, v, Code.X, "a b")\n'
    assert worded_in_place(ast.parse(sample)) == [1, 2]


def test_every_message_of_the_registry_takes_the_values_it_names():
    import string

    from bcdc_bulk.problems import RULES, say

    for code, rule in RULES.items():
        assert rule.fix and rule.says, code
        for variant, template in rule.says.items():
            names = {name for _, name, spec, _ in string.Formatter().parse(template) if name}
            said = say(code, variant, **dict.fromkeys(names, 12345))
            assert "{" not in said and (not names or "12345" in said or "12,345" in said), (code, variant)


def test_every_code_has_one_rule_saying_how_bad_it_is_how_to_fix_it_and_what_it_says():
    import pytest

    from bcdc_bulk.problems import AS_ENFORCED, ERROR, RULES, WARNING, Problem

    assert set(RULES) == set(Code)
    assert {code: rule.severity for code, rule in RULES.items() if rule.severity not in (ERROR, WARNING, AS_ENFORCED)
            } == {}
    # the registry decides: a fixed severity is taken from it, and a contradiction is a bug, not a row's problem
    assert Problem("Datasets", 3, "B", "name", "x", Code.NAME_IN_USE, "m").severity == ERROR
    assert Problem("Datasets", 3, "B", "notes", "x", Code.TYPED_NUMBER, "m").severity == WARNING
    with pytest.raises(ValueError, match="always a warning"):
        Problem("Datasets", 3, "B", "notes", "x", Code.EDGE_SPACE, "m", ERROR)
    # where the catalogue's schema decides (a required field the server enforces, or only the form asks for)
    assert Problem("Datasets", 3, "B", "purpose", "", Code.REQUIRED, "m", WARNING).severity == WARNING
    with pytest.raises(ValueError, match="needs its severity"):
        Problem("Datasets", 3, "B", "purpose", "", Code.REQUIRED, "m")


def test_a_url_a_server_will_not_fetch_is_worded_by_the_registry():
    tree = ast.parse((SOURCE / "local_files.py").read_text(encoding="utf-8"))
    said = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "not_on_a_server")
    assert text_in(said) == []


# the modules that say what happens to a row: every sentence they say is a template of a registry
# (problems.RULES for problems, messages.SAYS for notes, conflicts, outcomes and read-backs)
SPEAKERS = ("planning.py", "diffing.py", "validation.py", "settled.py", "applying.py", "verifying.py", "rebasing.py",
            "row_results.py", "sending.py", "local_files.py", "check_view.py")


def sentences_in(tree: ast.AST) -> list[int]:
    """Lines holding words of a sentence (two words or more, in a literal or an f-string's text), docstrings
    aside: 'not found' is one, f'{a}!{b}{c}' and f'{label} ({lang})' are not."""
    import re

    docs = {id(n.body[0].value) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Module))
            and n.body and isinstance(n.body[0], ast.Expr)}
    def sentence(text: str) -> bool:
        return " " in text and len(re.findall(r"[A-Za-z]{2,}", text)) >= 2

    found = []
    for node in ast.walk(tree):
        if id(node) in docs:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            found += [node.lineno] * sentence(text)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and sentence(node.value):
            found.append(node.lineno)
    return sorted(set(found))


def test_no_module_that_speaks_of_rows_writes_a_sentence_of_its_own():
    assert {name: sentences_in(ast.parse((SOURCE / name).read_text(encoding="utf-8"))) for name in SPEAKERS} == {
        name: [] for name in SPEAKERS}
    sample = ('def f(x):\n    """Docs are no message."""\n    a = f"{x}!{x}{x}"\n    b = f"{x} ({x})"\n'
              '    c = "not found"\n    d = f"tried {x} times"\n    return a, b, c, d\n')
    assert sentences_in(ast.parse(sample)) == [5, 6]


def test_every_message_takes_the_values_it_names():
    import string

    from bcdc_bulk.messages import SAYS, Say, said

    assert set(SAYS) == set(Say)
    said_somewhere = "".join(m.read_text(encoding="utf-8") for m in MODULES if m.name != "messages.py")
    assert [k.name for k in Say if f"Say.{k.name}" not in said_somewhere] == []  # no template left unsaid
    for key, template in SAYS.items():
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        text = said(key, **dict.fromkeys(names, 12345))
        assert "{" not in text and (not names or "12345" in text), key
