"""The .pyi stub describes the package as it is: every public name, every
record field and every method signature's parameters."""
import ast
import dataclasses
import inspect
from pathlib import Path

import gpurent

STUB = Path(gpurent.__file__).with_name("__init__.pyi")


def stub_tree():
    return ast.parse(STUB.read_text())


def stub_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def test_stub_lists_every_public_name():
    names = stub_names(stub_tree())
    missing = [n for n in gpurent.__all__ if n not in names]
    assert not missing, f"not in {STUB.name}: {missing}"


def test_stub_records_match_the_dataclasses():
    classes = {n.name: n for n in stub_tree().body if isinstance(n, ast.ClassDef)}
    for rec in (gpurent.GPU, gpurent.Node, gpurent.Offer, gpurent.Request):
        node = classes[rec.__name__]
        fields = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign)]
        assert fields == [f.name for f in dataclasses.fields(rec)], rec.__name__
        init = next(s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__")
        assert [a.arg for a in init.args.args[1:]] == list(inspect.signature(rec).parameters)


def test_stub_functions_match_signatures():
    for node in stub_tree().body:
        if isinstance(node, ast.FunctionDef):
            real = getattr(gpurent, node.name)
            assert [a.arg for a in node.args.args] == list(inspect.signature(real).parameters), node.name
            assert real.__doc__, node.name


def test_exception_classes_in_stub_have_the_same_bases():
    for node in stub_tree().body:
        if isinstance(node, ast.ClassDef) and node.name.endswith("Error") and node.name != "Error":
            real = getattr(gpurent, node.name)
            assert [b.id for b in node.bases] == [b.__name__ for b in real.__bases__], node.name
