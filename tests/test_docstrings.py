"""Docstrings of the public API: numpydoc sections that match the signatures.

Every name in the ``__all__`` of ``skion`` and its subpackages, and every public method of
the public classes, is validated with ``numpydoc.validate``: it has a docstring, its
Parameters section lists exactly the signature's parameters in order, and functions and
classes (not methods, which their class's example covers) have an Examples section.
Dataclasses, which users receive rather than build, document their fields as Attributes.
"""

import dataclasses
import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate", reason="numpydoc is in the dev extra")

MODULES = [
    "skion",
    "skion.cli",
    "skion.datasets",
    "skion.exceptions",
    "skion.hmm",
    "skion.kinetics",
    "skion.metrics",
    "skion.model_files",
    "skion.neural",
    "skion.pipelines",
    "skion.preprocessing",
    "skion.windowing",
]

#: numpydoc checks every public object must pass: GL08 no docstring, SS01 no summary,
#: PR01 a parameter of the signature is not documented, PR02 a documented parameter is
#: not in the signature, PR03 parameters documented in another order than the signature.
PARAMETER_CHECKS = {"GL08", "SS01", "PR01", "PR02", "PR03"}
#: EX01: no Examples section (required of functions and classes, not of methods).
EXAMPLE_CHECKS = {"EX01"}

#: Objects reported as expected failures (non-strict), by qualified name, with the reason.
#: Empty: every public object passes. Add an entry only with a true reason.
IN_PROGRESS: dict[str, str] = {}


def _public_objects():
    """``(qualified name, object, kind)`` for every public function, class and method."""
    seen = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants such as __version__, REGIMES
            qualname = f"{obj.__module__}.{obj.__qualname__}"
            seen.setdefault(qualname, (obj, "class" if inspect.isclass(obj) else "function"))
            if not inspect.isclass(obj):
                continue
            # methods skion defines, on the class or a skion mixin it inherits from
            for owner in obj.__mro__:
                if not owner.__module__.startswith("skion"):
                    continue
                for attr, value in vars(owner).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(value, classmethod | staticmethod):
                        value = value.__func__
                    if inspect.isfunction(value) or isinstance(value, property):
                        owner_name = f"{owner.__module__}.{owner.__qualname__}"
                        seen.setdefault(f"{owner_name}.{attr}", (value, "method"))
    return sorted((name, obj, kind) for name, (obj, kind) in seen.items())


def _marks(qualname):
    """An expected-failure mark for the objects listed in ``IN_PROGRESS``."""
    if qualname in IN_PROGRESS:
        return [pytest.mark.xfail(reason=IN_PROGRESS[qualname], strict=False)]
    return []


OBJECTS = _public_objects()


@pytest.mark.parametrize(
    "qualname, obj, kind",
    [pytest.param(name, obj, kind, id=name, marks=_marks(name)) for name, obj, kind in OBJECTS],
)
def test_docstring(qualname, obj, kind):
    result = validate.validate(qualname)
    checks = set(PARAMETER_CHECKS)
    if kind != "method":
        checks |= EXAMPLE_CHECKS
    if kind == "class" and dataclasses.is_dataclass(obj):
        # Fields are documented under Attributes, not Parameters: compare those instead.
        checks -= {"PR01", "PR02", "PR03"}
        documented = _attribute_names(obj)
        fields = [field.name for field in dataclasses.fields(obj)]
        assert documented == fields, f"{qualname}: Attributes {documented} != fields {fields}"
    if isinstance(obj, property):
        checks -= {"PR01", "PR02", "PR03"}
    errors = [f"{code}: {message}" for code, message in result["errors"] if code in checks]
    assert not errors, f"{qualname}:\n" + "\n".join(errors)


def _attribute_names(cls):
    """Names in a class docstring's Attributes section, in order (``a, b : type`` split)."""
    from numpydoc.docscrape import ClassDoc

    names = []
    for attribute in ClassDoc(cls, config={"show_class_members": False})["Attributes"]:
        names.extend(part.strip() for part in attribute.name.split(","))
    return names


def test_every_public_module_is_checked():
    """A new public subpackage must be added to MODULES."""
    import pkgutil

    import skion

    public = {
        f"skion.{info.name}"
        for info in pkgutil.iter_modules(skion.__path__)
        if not info.name.startswith("_")
    }
    assert public <= set(MODULES)
