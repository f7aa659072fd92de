import pytest

from aquabill.platform.web.context import slug_from_host
from aquabill.tenants.naming import InvalidName, quote_schema, schema_for, validate_schema, validate_slug


@pytest.mark.parametrize("slug,schema", [("demo", "t_demo"), ("vodokanal-perm", "t_vodokanal_perm"), ("a1", "t_a1")])
def test_schema_for_valid_slugs(slug, schema):
    assert schema_for(slug) == schema


@pytest.mark.parametrize("slug", ["", "a", "1abc", "Demo", "demo_x", "de mo", "demo-", "de--mo", "x" * 41,
                                  'a"; drop', "admin", "www", "кириллица"])
def test_invalid_slugs_are_rejected(slug):
    with pytest.raises(InvalidName):
        validate_slug(slug)


@pytest.mark.parametrize("schema", ["public", "control", "t_", "t_A", 't_x"y', "t_" + "a" * 61, "pg_catalog"])
def test_invalid_schemas_are_rejected(schema):
    with pytest.raises(InvalidName):
        validate_schema(schema)


def test_quote_schema():
    assert quote_schema("t_demo") == '"t_demo"'


@pytest.mark.parametrize("host,slug", [
    ("demo.localhost:8000", "demo"), ("demo.aquabill.ru", None), ("localhost:8000", None),
    ("127.0.0.1:8000", None), ("a.b.localhost", None), ("DEMO.localhost.", "demo"),
])
def test_slug_from_host(host, slug):
    assert slug_from_host(host, "localhost") == slug
