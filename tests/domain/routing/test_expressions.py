import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianluo.domain.routing import ConfigError, ExpressionError, compile_expression

AGENT = {"language": "yue", "languages": ["yue", "zh"], "age_band": "30s", "level": 7}
CONTACT = {"age_band": "30s", "language": "zh", "vip": True, "score": 2.5}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('language in ["yue","zh"] and contact.age_band == agent.age_band', True),
        ('language in ["en"]', False),
        ("agent.languages has contact.language", True),
        ('agent.languages has "en"', False),
        ('agent.languages in ["zh", "en"]', True),  # list in list: shares an element
        ('contact.language not in ["zh"]', False),
        ("not contact.vip", False),
        ("contact.vip == true and agent.level >= 7", True),
        ("agent.level > 7 or contact.score < 3", True),
        ("agent.level > 7 or contact.score <= 2", False),
        ("contact.missing == null", True),
        ("contact.missing", False),
        ("contact.vip == 1", False),  # booleans never equal numbers
        ('agent.level < "9"', False),  # mixed types do not order
        ("(agent.level == 7 or false) and not (contact.language == 'en')", True),
        ('contact.language != "en"', True),
        ("agent.level == 7.0", True),
    ],
)
def test_expression_semantics(text, expected):
    assert compile_expression(text).matches(AGENT, CONTACT) is expected


def test_compiled_expression_reports_what_it_reads():
    expr = compile_expression('language in ["yue"] and contact.age_band == agent.age_band')
    assert expr.contact_attributes == {"age_band"}
    assert expr.agent_attributes == {"language", "age_band"}


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ('language in ["yue" "zh"]', 19),
        ("contact.age_band ==", 19),
        ("customer.age == 3", 0),
        ("agent.level >> 3", 13),
        ("agent.level == 3 )", 17),
        ('"open', 0),
        ("agent.level = 3", 12),
        ("", 0),
        ("(agent.level == 3", 17),
        ("agent.", 6),
    ],
)
def test_bad_expressions_are_rejected_with_the_position(text, position):
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    assert info.value.position == position
    assert isinstance(info.value, ConfigError)
    assert f"position {position}" in str(info.value)


def test_expression_is_never_evaluated_as_python():
    for text in ("__import__('os').system('true')", "1 + 1", "lambda: 1", "agent.x()"):
        with pytest.raises(ExpressionError):
            compile_expression(text)
    # names are keys of the attribute mapping, never attributes of Python objects
    assert compile_expression("agent.__class__ == null").matches(AGENT, CONTACT)


def test_nesting_is_bounded():
    with pytest.raises(ExpressionError, match="nested deeper"):
        compile_expression("(" * 100 + "true" + ")" * 100)


@given(st.text(max_size=40))
def test_any_text_either_compiles_or_raises_expression_error(text):
    position = None
    try:
        expr = compile_expression(text)
    except ExpressionError as error:
        position = error.position
    if position is None:
        assert expr.matches(AGENT, CONTACT) in (True, False)
    else:
        assert 0 <= position <= len(text)


@given(
    st.dictionaries(
        st.sampled_from(["language", "level", "age_band"]),
        st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=3)),
    )
)
def test_evaluation_never_raises_whatever_the_attribute_types(attributes):
    expr = compile_expression(
        'language in ["yue"] or agent.level >= 2 or agent.age_band has "x" '
        "or contact.level < agent.level"
    )
    assert expr.matches(attributes, attributes) in (True, False)
