"""The notebook side: every notebook runs headless and draws its pictures, committed
notebooks carry no outputs, and the magics work in a plain IPython shell."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
IPython = pytest.importorskip("IPython")

from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from reasoner import notebook  # noqa: E402
from reasoner.decision import Decision  # noqa: E402
from reasoner.explain.why import Why  # noqa: E402
from reasoner.explain.whynot import WhyNot  # noqa: E402
from reasoner.render.dot import has_dot  # noqa: E402
from reasoner.render.html import AccessTable, OutcomeTable  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SEED = (ROOT / "examples" / "seed_scenario.sql").read_text(encoding="utf-8")
KERNEL = "reasoner-test-python"


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ has no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"cell {number} of {path.name} has outputs: strip them"
        assert cell.execution_count is None, f"cell {number} of {path.name} has a count"


def _kernel_manager(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A kernel that runs this very interpreter (the venv's), whatever kernelspecs the
    machine has: a kernelspec of our own in a temporary directory."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = tmp_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "reasoner test", "language": "python"}), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")],
                              ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def _nodes(svg: str) -> int:
    return len(re.findall(r'<g id="node\d+" class="node"', svg))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_draws(path: Path, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    assert has_dot(), "graphviz's dot is needed to draw (bash scripts/setup.sh test)"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, km=_kernel_manager(tmp_path), timeout=120,
                            kernel_name=KERNEL, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on any cell's error
    pictures: list[str] = []  # image/svg+xml outputs (graphviz objects)
    inline: list[str] = []  # SVG inside HTML outputs (why, why-not)
    for number, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {number}: {output.get('evalue')}"
            if output.output_type == "stream":
                assert output.name != "stderr" or "Traceback" not in output.text, \
                    f"cell {number} wrote a traceback: {output.text[:500]}"
                continue
            data = output.get("data", {})
            if "image/svg+xml" in data:
                pictures.append(data["image/svg+xml"])
            html = data.get("text/html", "")
            inline += re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    assert pictures, f"{path.name} drew no picture (image/svg+xml)"
    for svg in pictures:
        assert "<svg" in svg and _nodes(svg) >= 3, svg[:300]
    assert inline, f"{path.name} shows no proof picture inside its HTML"
    assert max(_nodes(svg) for svg in inline) >= 5
    assert all("<script" not in svg for svg in pictures + inline)
    texts = "\n".join(str(o.get("data", {}).get("text/plain", "")) for c in nb.cells
                      for o in c.get("outputs", []))
    if path.name == "tour.ipynb":  # the reverse questions answered on both dialects
        assert "who can select on table business_db.customers" in texts
        assert "who can select on table prj_a.up(mobile)" in texts


# the magics, in a plain IPython shell ----------------------------------------------


@pytest.fixture(scope="module")
def ip() -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "reasoner")
    return shell


def _seed(ip: InteractiveShell) -> OutcomeTable:
    return ip.run_cell_magic("policy", "--new --target matrixone-v4.2.0", SEED)


def test_policy_cell_shows_each_statement(ip: InteractiveShell) -> None:
    table = _seed(ip)
    assert isinstance(table, OutcomeTable)
    errors = [r.message for r in table.errors]
    assert errors == ["there is no role appdeveloper_missing",
                      "do not have privilege to execute the statement",
                      'table "orders" does not exist']
    assert len(table.outcomes) == 14
    assert notebook.current_session() is not None
    assert notebook.current_session().principal == "elseaccount:else_admin"
    html = table._repr_html_()
    assert html.count('class="rz-error"') == 3
    assert "there is no role appdeveloper_missing" in html
    assert "new reasoner" in table.title


def test_policy_continues_the_session_and_options(ip: InteractiveShell) -> None:
    _seed(ip)
    first = notebook.current()
    table = ip.run_cell_magic("policy", "--as businessaccount:joe_g",
                              "create table business_db.t2 (a int);\nselect * from t9;")
    assert notebook.current() is first  # same reasoner: no --new
    assert [r.ok for r in table.rows] == [True, False]
    assert table.rows[0].principal == "businessaccount:joe_g"
    # the next cell goes on in joe's session
    table = ip.run_cell_magic("policy", "", "insert into business_db.t2 values (1);")
    assert table.ok and table.rows[0].principal == "businessaccount:joe_g"
    table = ip.run_cell_magic("policy", "--target matrixone-main", "create role r1;")
    assert notebook.current() is not first and notebook.current().target == "matrixone-main"
    assert table.ok and "new reasoner" in table.title
    ip.run_line_magic("policy", "--new")  # --new alone keeps dialect and target
    assert notebook.current().target == "matrixone-main"


def test_check_why_why_not_return_rich_objects(ip: InteractiveShell) -> None:
    _seed(ip)
    decision = ip.run_line_magic(
        "check", "select on table business_db.orders --as businessaccount:joe_g")
    assert isinstance(decision, Decision) and decision.allowed
    why = ip.run_line_magic("why",
                            "select on table business_db.orders --as businessaccount:joe_g")
    assert isinstance(why, Why) and "<svg" in why._repr_html_()
    why_not = ip.run_line_magic(
        "why_not", "create user on account * --as businessaccount:joe_g")
    assert isinstance(why_not, WhyNot) and why_not.repairs
    assert "grant create user on account * to appdeveloper;" in why_not._repr_html_()
    # the session the seed ended in: else_admin does not see business_db
    denied = ip.run_line_magic("check", "select on table business_db.orders")
    assert not denied.allowed and denied.errors
    with pytest.raises(UsageError, match="why_not"):
        ip.run_line_magic("why", "create user on account * --as businessaccount:joe_g")
    with pytest.raises(UsageError, match="PRIVILEGE on KIND NAME"):
        ip.run_line_magic("check", "select on tab")
    with pytest.raises(UsageError, match="unknown option"):
        ip.run_line_magic("check", "select on table business_db.orders --bogus 1")
    with pytest.raises(UsageError, match="cannot connect"):
        ip.run_line_magic("check", "select on table business_db.orders --as nobody:x")


def test_session_options_role_and_secondary(ip: InteractiveShell) -> None:
    ip.run_cell_magic("policy", "--new", SEED + """
-- connect businessaccount:robert
create table business_db.customers (id int);
create role analyst;
grant select on table business_db.customers to analyst;
grant analyst to joe_g;
""")
    ask = "select on table business_db.customers --as businessaccount:joe_g"
    assert not ip.run_line_magic("check", ask)
    assert ip.run_line_magic("check", ask + " --role analyst")
    assert ip.run_line_magic("check", ask + " --secondary all")  # v4.2.0
    with pytest.raises(UsageError, match="all or none"):
        ip.run_line_magic("check", ask + " --secondary some")


def test_who_can_what_can_roles(ip: InteractiveShell) -> None:
    _seed(ip)
    who = ip.run_line_magic("who_can",
                            "select on table business_db.orders --account businessaccount")
    assert isinstance(who, AccessTable)
    assert [a.user for a in who] == ["joe_g", "robert"]
    what = ip.run_line_magic("what_can", "businessaccount:joe_g")
    assert isinstance(what, AccessTable) and len(what) > 5
    assert ("table", "business_db.orders") in {(r[0], r[1]) for r in what.rows}
    graph = ip.run_line_magic("roles", "--account businessaccount --user joe_g")
    assert "appdeveloper" in graph.source and "robert" not in graph.source
    graph = ip.run_line_magic("roles", "--account businessaccount "
                                       "--focus table business_db.orders --privilege select")
    assert "table business_db.orders" in graph.source
    with pytest.raises(UsageError, match="no table nope.t"):
        ip.run_line_magic("roles", "--account businessaccount --focus table nope.t")


def test_cell_syntax_and_no_dollar_expansion(ip: InteractiveShell) -> None:
    """Through run_cell, as a notebook runs it; ``$alice`` must reach the reasoner as
    written even when a Python variable ``alice`` exists."""
    ip.user_ns["alice"] = "EXPANDED"
    result = ip.run_cell("%%policy --new --dialect maxcompute\n"
                         "-- project prj_a owner ALIYUN$bob@aliyun.com\n"
                         "-- connect prj_a ALIYUN$bob@aliyun.com\n"
                         "create table t1 (id bigint);\n"
                         "add user ALIYUN$alice@aliyun.com;\n"
                         "grant CreateInstance on project prj_a to user ALIYUN$alice@aliyun.com;\n"
                         "grant Select on table t1 to user ALIYUN$alice@aliyun.com;\n")
    assert result.success, result.error_in_exec
    table = result.result
    assert table.ok, table.errors
    assert table.rows[0].statement.startswith("-- project prj_a")
    result = ip.run_cell("%check select on table prj_a.t1 --as prj_a ALIYUN$alice@aliyun.com")
    assert result.success and result.result.allowed
    result = ip.run_cell("%why select on table prj_a.t1 --as prj_a ALIYUN$alice@aliyun.com")
    assert result.success and isinstance(result.result, Why)
    result = ip.run_cell("%check select on table prj_a.t1 --as prj_a ALIYUN$dave@aliyun.com")
    assert result.success and not result.result.allowed
    assert notebook.current().dialect.name == "maxcompute"
    who = ip.run_cell("%who_can select on table prj_a.t1 --account prj_a").result
    assert {access.user for access in who} == {"ALIYUN$alice@aliyun.com",
                                               "ALIYUN$bob@aliyun.com"}
    assert "ALIYUN$alice@aliyun.com" in who._repr_html_()
    what = ip.run_cell("%what_can prj_a ALIYUN$alice@aliyun.com").result
    assert ("select", "table", "prj_a.t1") in {tuple(row[:3]) for row in what}


def test_current_is_the_magics_reasoner(ip: InteractiveShell) -> None:
    ip.run_cell_magic("policy", "--new --dialect matrixone",
                      "create account acc1 admin_name 'a' identified by '1';")
    reasoner = notebook.current()
    assert "acc1" in reasoner.engine.catalogue.accounts
    assert reasoner.session("acc1:a").check("create user", "account *")


def test_parse_line() -> None:
    question, options = notebook.parse_line(
        'select on table db1.t1 --as "prj a" --role dev --new', {"as", "role"}, {"new"})
    assert question == "select on table db1.t1"
    assert options == {"as": "prj a", "role": "dev", "new": True}
    assert notebook.parse_line("x --as=acc1:joe", {"as"})[1] == {"as": "acc1:joe"}
    assert notebook.parse_question("create user on account *") == ("create user",
                                                                   "account *")
    with pytest.raises(UsageError):
        notebook.parse_line("x --as", {"as"})
    with pytest.raises(UsageError):
        notebook.parse_line('x --as "unclosed', {"as"})
