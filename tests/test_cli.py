"""The command line: exact output, exit codes, no tracebacks, the key never shown."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE

from bcdc_bulk.cli import cli
from bcdc_bulk.errors import ConfigError
from bcdc_bulk.settings import resolve_api_key, resolve_remote


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_help_lists_every_command():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("export", "inventory", "template", "validate", "plan", "apply"):
        assert f"  {command} " in result.output


def test_export_then_plan_on_the_sample(tmp_path):
    out = tmp_path / "org.xlsx"
    result = run("-q", "export", "-r", str(SAMPLE), "--org", "sample-data-branch", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"Exported 16 datasets and 128 resources (sample-data-branch) to {out}\n"
    result = run("plan", str(out))
    assert (result.exit_code, result.output) == (0, "No changes.\n")


def test_unknown_org_is_one_clear_line(tmp_path):
    result = run("export", "-r", str(SAMPLE), "--org", "nope", "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 1
    assert result.output == f"Error: organization 'nope' was not found on {SAMPLE}. No workbook was written.\n"
    assert not (tmp_path / "x.xlsx").exists()


def test_not_a_workbook(tmp_path):
    bad = tmp_path / "data.xlsx"
    bad.write_text("id,name\n1,a\n")
    result = run("plan", str(bad))
    assert result.exit_code == 1
    assert result.output == ("Error: data.xlsx is not an Excel workbook (.xlsx); was it saved as CSV or another "
                             "format? Nothing was sent to the catalogue.\n")
    assert "Traceback" not in result.output


def test_template_without_a_remote(tmp_path):
    out = tmp_path / "new.xlsx"
    result = run("template", "-o", str(out))
    assert (result.exit_code, result.output) == (0, f"Wrote an empty workbook to {out}\n")
    assert run("plan", str(out)).output == "No changes.\n"
    # item 1: with no catalogue, the organization columns cannot list anything, and say what to type
    import openpyxl

    wb = openpyxl.load_workbook(out)
    for sheet, header in (("Datasets", "Published By *"), ("Contacts", "Organization *")):
        [cell] = [c for c in wb[sheet][1] if c.value == header]
        assert "made without the catalogue, so there is no list here: type the organization's name as the " \
            "catalogue's pages show it." in cell.comment.text


def test_usage_error_exits_2():
    result = run("export", "--org", "x")
    assert result.exit_code == 2


def test_unknown_remote(tmp_path):
    result = run("export", "-r", "nowhere", "--org", "x", "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 1
    assert "unknown remote 'nowhere'" in result.output


def test_api_key_never_printed(sandbox, tmp_path):
    secret = sandbox["CKAN_ADMIN_TOKEN"]
    out = tmp_path / "live.xlsx"
    result = run("-q", "export", "-r", sandbox["CKAN_URL"], "--org", "sample-data-branch", "-o", str(out),
                 env={"BCDC_API_KEY": secret})
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    assert secret.encode() not in out.read_bytes()
    bad = run("export", "-r", sandbox["CKAN_URL"], "--org", "no-such-org", "-o", str(tmp_path / "n.xlsx"),
              "--apikey", secret)
    assert bad.exit_code == 1 and secret not in bad.output


def test_api_key_resolution_order(tmp_path):
    config = tmp_path / "config.ini"
    config.write_text("[prod]\napikey = from-file\n[default]\napikey = default-key\n")
    prod = resolve_remote("prod")
    assert resolve_api_key("flag", prod, {"BCDC_API_KEY": "env"}, config) == "flag"
    assert resolve_api_key(None, prod, {"BCDC_API_KEY": "a", "CKAN_API_KEY": "b"}, config) == "a"
    assert resolve_api_key(None, prod, {"CKAN_API_KEY": "b"}, config) == "b"
    assert resolve_api_key(None, prod, {}, config) == "from-file"
    assert resolve_api_key(None, resolve_remote("test"), {}, config) == "default-key"
    assert resolve_api_key(None, prod, {}, tmp_path / "missing.ini") is None


def test_remote_shortcuts(tmp_path):
    assert resolve_remote("prod").url == "https://catalogue.data.gov.bc.ca"
    assert resolve_remote("test").url == "https://cat.data.gov.bc.ca"
    assert resolve_remote(str(SAMPLE)).path == Path(str(SAMPLE))


PROD_FORMS = ["prod", "https://catalogue.data.gov.bc.ca", "https://catalogue.data.gov.bc.ca/",
              "https://www.catalogue.data.gov.bc.ca", "https://www.catalogue.data.gov.bc.ca/",
              "HTTPS://Catalogue.Data.Gov.BC.ca", "http://catalogue.data.gov.bc.ca/"]


@pytest.mark.parametrize("form", PROD_FORMS)
def test_production_in_any_form_asks_first(form, monkeypatch, tmp_path):
    """apply -r with the production address written out stops for a yes exactly as -r prod does."""
    from bcdc_bulk import api, results

    assert resolve_remote(form).is_production and resolve_remote(form).name == "prod"
    asked = []

    def fake_apply(path, catalogue, settings, *, confirm, progress):
        asked.append(catalogue.site)
        confirm(results.Preview(site=catalogue.site, records=2, calls=2, invalid=0, dry_run=False))
        raise AssertionError("confirm must refuse without a terminal")

    monkeypatch.setattr(api, "apply", fake_apply)
    (tmp_path / "w.xlsx").write_bytes(b"PK")
    result = CliRunner().invoke(cli, ["apply", str(tmp_path / "w.xlsx"), "-r", form], env={"BCDC_API_KEY": "k"})
    assert asked == ["https://catalogue.data.gov.bc.ca"]
    assert result.exit_code == 1 and "not writing to prod without a yes" in result.output, result.output


def test_a_site_named_in_the_config_file(tmp_path):
    """Issue 21: other catalogues by name: a [name] section with url (and its own apikey)."""
    config = tmp_path / "config.ini"
    config.write_text("[opendata-ch]\nurl = https://ckan.opendata.swiss/\napikey = ch-key\n")
    remote = resolve_remote("opendata-ch", {}, config)
    assert (remote.url, remote.name, remote.is_production) == ("https://ckan.opendata.swiss", "opendata-ch", False)
    assert resolve_api_key(None, remote, {}, config) == "ch-key"
    config.write_text("[bad]\nurl = ckan.example\n")
    with pytest.raises(ConfigError, match=r"\[bad\] url must start with http"):
        resolve_remote("bad", {}, config)
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    (tmp_path / "bcdc-bulk").mkdir()
    (tmp_path / "bcdc-bulk" / "config.ini").write_text("[mine]\nurl = http://127.0.0.1:9/\n")
    result = CliRunner().invoke(cli, ["export", "-r", "mine", "--org", "x", "-o", str(tmp_path / "x.xlsx")], env=env)
    assert "unknown remote" not in result.output and "127.0.0.1" in result.output


def test_other_addresses_are_not_production():
    for other in ("https://cat.data.gov.bc.ca", "https://catalogue.data.gov.bc.ca.example.org",
                  "http://127.0.0.1:5055"):
        assert not resolve_remote(other).is_production
