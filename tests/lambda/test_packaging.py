"""tools.package_lambda (`make package`) without the network: what it installs, for which
platform, what it leaves out, and that its zip is reproducible and checked."""

import json
import shutil
import tomllib
import zipfile
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from devstack.application import APPLICATION_TEMPLATE, load_template
from service.http.routing import load_spec
from tools import package_lambda
from tools.lambda_artifact import STUBS, WORKER_HANDLERS, write_spec

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_installs_the_runtime_dependencies_only():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    deps = package_lambda.runtime_dependencies()
    assert deps == project["dependencies"]
    names = {d.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower() for d in deps}
    assert "mangum" in names and "connexion" in names
    for dev_only in ("moto", "pytest", "cfn-lint", "httpx", "uvicorn"):
        assert dev_only not in names


def test_pip_installs_for_the_lambda_platform(tmp_path):
    command = package_lambda.pip_command(tmp_path, ["connexion>=3.3,<4"])
    joined = " ".join(command)
    for flag in (
        "--platform manylinux2014_x86_64",
        "--implementation cp",
        "--python-version 3.11",
        "--only-binary=:all:",
        f"--target {tmp_path}",
    ):
        assert flag in joined
    assert command[-1] == "connexion>=3.3,<4"


def test_template_code_is_the_artifact_and_its_platform():
    for resource in load_template()["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            props = resource["Properties"]
            assert (APPLICATION_TEMPLATE.parent / props["Code"]).resolve() == package_lambda.ARTIFACT
            assert props["Runtime"] == f"python{package_lambda.PYTHON_VERSION}"
            assert props["Architectures"] == ["x86_64"] and package_lambda.PLATFORM.endswith("_x86_64")


@pytest.mark.parametrize(
    "path,excluded",
    [
        ("tests/test_x.py", True),
        ("devstack/aws.py", True),
        ("tools/x.py", True),
        ("bin/jp.py", True),
        ("boto3/__pycache__/x.cpython-311.pyc", True),
        ("service/app.pyc", True),
        ("service/app.py", False),
        ("openapi.yaml", False),
        ("botocore/data/dynamodb/2012-08-10/service-2.json.gz", False),
        ("connexion-3.3.0.dist-info/METADATA", False),
    ],
)
def test_exclusions(path, excluded):
    assert package_lambda.is_excluded(Path(path)) is excluded


def staged(tmp_path: Path) -> Path:
    target = tmp_path / "staged"
    shutil.copytree(REPO_ROOT / "service", target / "service", ignore=shutil.ignore_patterns("__pycache__"))
    write_spec(REPO_ROOT / "openapi.yaml", target)
    (target / "tests").mkdir()
    (target / "tests" / "leak.py").write_text("")
    return target


def test_zip_is_reproducible_and_holds_the_layout_lambda_imports(tmp_path):
    target = staged(tmp_path)
    assert package_lambda.byte_compile(target)
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    count, unzipped = package_lambda.write_zip(target, first, with_pyc=True)
    package_lambda.write_zip(target, second, with_pyc=True)
    assert first.read_bytes() == second.read_bytes()  # the same S3 key for the same inputs
    names = zipfile.ZipFile(first).namelist()
    assert len(names) == count and unzipped > 0
    assert "service/lambdas/http.py" in names and "openapi.json" in names  # handler: service.lambdas.http.handler
    assert "service/lambdas/__pycache__/http.cpython-311.pyc" in names
    assert not any(name.startswith("tests/") for name in names)
    without_pyc = tmp_path / "c.zip"
    package_lambda.write_zip(target, without_pyc, with_pyc=False)
    assert not any(name.endswith(".pyc") for name in zipfile.ZipFile(without_pyc).namelist())


def test_smoke_check_fails_when_a_dependency_is_missing(tmp_path):
    """The staged files alone must import the handler: here the dependencies are missing."""
    with pytest.raises(SystemExit) as failed:
        package_lambda.smoke_check(staged(tmp_path))
    assert "smoke check failed" in str(failed.value)


def test_the_artifact_carries_the_spec_as_json_and_the_app_reads_the_same_data(tmp_path):
    write_spec(REPO_ROOT / "openapi.yaml", tmp_path)
    assert json.loads((tmp_path / "openapi.json").read_text()) == load_spec()
    assert not (tmp_path / "openapi.yaml").exists()
    assert load_spec(tmp_path / "openapi.yaml") == load_spec()  # no YAML there: the JSON beside it


def installed(requirements: list[str], target: Path) -> None:
    """What pip would install for `requirements`, copied from this virtualenv (no network)."""
    pending, seen = [Requirement(r) for r in requirements], set()
    while pending:
        requirement = pending.pop()
        dist = distribution(requirement.name)
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        for file in dist.files or []:
            source = Path(dist.locate_file(file))
            if ".." not in file.parts and source.is_file() and "__pycache__" not in file.parts:
                (target / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / file)
        for dependency in map(Requirement, dist.requires or []):
            if dependency.marker is None or dependency.marker.evaluate({"extra": ""}):
                pending.append(dependency)


def test_the_handler_imports_and_serves_from_the_stubbed_artifact(tmp_path, capsys):
    target = tmp_path / "lambda"
    installed(package_lambda.runtime_dependencies(), target)
    package_lambda.finish(target)
    for module in STUBS:
        stub = target.joinpath(*module.split(".")).with_suffix(".py")
        assert "A stub" in stub.read_text() and not stub.with_suffix("").is_dir()
    package_lambda.smoke_check(target)  # raises SystemExit if an import fails or a stub is used
    assert "handlers import from the artifact alone and serve" in capsys.readouterr().out


def test_the_smoke_check_imports_every_handler_the_template_names():
    handlers = {
        resource["Properties"]["Handler"]
        for resource in load_template()["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert handlers == {f"{module}.handler" for module in ["service.lambdas.http", *WORKER_HANDLERS]}


def test_only_the_functions_app_skips_connexions_check_of_the_spec(monkeypatch):
    """The function's spec passed the check when it was packaged (`write_spec`)."""
    from connexion.spec import OpenAPISpecification, Specification

    from service.bootstrap import bootstrap
    from service.config import Settings, TableNames
    from service.http.app import create_app

    checked: list = []
    monkeypatch.setattr(Specification, "_validate_spec", classmethod(lambda cls, spec: checked.append(cls)))
    settings = Settings(tables=TableNames.with_prefix("t"), jwt_secret="x" * 40, log_level="WARNING")
    services = bootstrap(settings, store=object(), vault=object(), mailer=object())
    create_app(services)
    assert checked == [OpenAPISpecification]
    create_app(services, lambda_function=True)
    assert checked == [OpenAPISpecification]
    assert "_validate_spec" not in OpenAPISpecification.__dict__  # put back as it was
