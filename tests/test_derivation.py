"""Reading derivation files: every problem names the file and the line or key."""
import pytest

from symbolic_bp.derivations.derivation import discover, load, loads
from symbolic_bp.errors import InputError

from .conftest import GOOD


def test_good_file(good_file):
    d = load(good_file)
    assert d.title == "a small derivation" and d.document == "notes.md"
    assert [e.name for e in d.entries] == ["linear", "transposed"]
    first, second = d.entries
    assert first.expect == "verified" and second.expect == "refuted"
    assert first.claim.shapes == "A:m,n x:n y:m" and first.section == "1"
    assert first.latex.startswith("\\boxed{") and first.line == 6 and second.line == 13
    assert d.where(second) == f"{good_file}:13"


BAD = [
    ("toml-syntax", 'title = "x"\n[[claim]\n', "f.toml:2:"),
    ("unknown-file-key", GOOD.replace("document =", "documnet ="), "f.toml: unknown key 'documnet' (did you mean 'document'?)"),
    ("unknown-claim-key", GOOD.replace('wrt = "A"\nclaim = "y @ x.T"', 'wrt = "A"\nclaim = "y @ x.T"\ncots = "1"', 1),
     "f.toml:6: unknown key 'cots' (did you mean 'cost'?)"),
    ("missing-key", GOOD.replace('wrt = "A"\nclaim = "x @ y.T"', 'claim = "x @ y.T"'), "f.toml:13: missing key 'wrt'"),
    ("wrong-type", GOOD.replace('cost = "y.T @ A @ x"', "cost = 3", 1), "f.toml:6: key 'cost' must be a string, got int"),
    ("bad-expect", GOOD.replace('expect = "refuted"', 'expect = "wrong"'), "f.toml:18: expect must be one of"),
    ("duplicate-name", GOOD.replace('name = "transposed"', 'name = "linear"'), "f.toml:13: the name 'linear' is used twice"),
    ("no-claims", 'title = "x"\nclaim = []\n', "f.toml: no [[claim]] sections"),
    ("claim-not-table", 'title = "x"\nclaim = "y"\n', "f.toml: 'claim' must be an array of tables"),
    ("no-shapes", GOOD.replace('shapes = "A:m,n x:n y:m"\n', ""), "has no 'shapes' and the file gives no default"),
    ("empty", "", "f.toml: missing key 'title'"),
]


@pytest.mark.parametrize("text,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_file_is_one_line_naming_the_place(text, message):
    with pytest.raises(InputError) as e:
        loads(text, "f.toml")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_unreadable_files(tmp_path):
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match=r"b.toml: not UTF-8 text"):
        load(binary)
    with pytest.raises(InputError, match=r"missing.toml: cannot read"):
        load(tmp_path / "missing.toml")


def test_discover_sorts_and_recurses(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/z.toml", "a.toml", "b/readme.md"):
        (tmp_path / name).write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])] == ["a.toml", "b/z.toml"]


# -- every key of the bundled files, holding each TOML type ---------------------------------------
def _toml(value) -> str:
    """TOML text of a value read by tomllib (what the bundled files hold)."""
    import datetime
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, datetime.date)):
        return value.isoformat() if isinstance(value, datetime.date) else repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"


def _is_tables(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(t, dict) for t in value)


def _dump(data: dict) -> str:
    lines = [f"{k} = {_toml(v)}" for k, v in data.items() if not _is_tables(v)]
    for kind, tables in ((k, v) for k, v in data.items() if _is_tables(v)):
        for table in tables:
            lines.append(f"[[{kind}]]")
            lines += [f"{k} = {_toml(v)}" for k, v in table.items() if not _is_tables(v)]
            for sub, subtables in ((k, v) for k, v in table.items() if _is_tables(v)):
                for t in subtables:
                    lines += [f"[[{kind}.{sub}]]"] + [f"{k} = {_toml(v)}" for k, v in t.items()]
    return "\n".join(lines) + "\n"


def _bundled_keys():
    """(file, data, path to a key) for every distinct key of the bundled files: a top-level key
    (key,), a key of a [[kind]] table (kind, index, key), of a [[kind.sub]] table (kind, index, sub, 0, key)."""
    import tomllib
    from pathlib import Path
    seen, out = set(), []
    for path in sorted((Path(__file__).parent.parent / "derivations").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert tomllib.loads(_dump(data)) == data, path      # the dumper writes what it read
        for key, value in data.items():
            where = [((key,), key)] if not _is_tables(value) else []
            for i, table in enumerate(value if _is_tables(value) else []):
                for k, v in table.items():
                    where.append(((key, i, k), f"{key}.{k}"))
                    for j, sub in enumerate(v if _is_tables(v) else []):
                        where += [((key, i, k, j, kk), f"{key}.{k}.{kk}") for kk in sub]
            for place, name in where:
                if name not in seen:
                    seen.add(name)
                    out.append((path.name, data, place))
    return out


TOML_TYPES = {"int": 3, "float": 1.5, "bool": True, "date": __import__("datetime").date(2020, 1, 2),
              "array": [1, 2], "table": {"k": 1}}


@pytest.mark.parametrize("kind", TOML_TYPES)
def test_every_key_of_the_bundled_files_with_a_value_of_the_wrong_type_is_one_line(kind):
    # was: AttributeError: 'float' object has no attribute 'split' (the claim of a [[network]]
    # table was not required to be a string); and a [[claim]] table's claim = 1.5 was read as a claim
    import copy
    keys = _bundled_keys()
    assert len(keys) > 40
    for name, data, place in keys:
        mutated = copy.deepcopy(data)
        node = mutated
        for step in place[:-1]:
            node = node[step]
        if type(node[place[-1]]) is type(TOML_TYPES[kind]):
            continue                                    # the key's own type (define's from = 2)
        node[place[-1]] = TOML_TYPES[kind]
        with pytest.raises(InputError) as e:
            loads(_dump(mutated), name)
        message = str(e.value)
        assert message.startswith(name) and "\n" not in message, message
        assert f"{place[-1]!r}" in message, (place, message)       # the key's name
