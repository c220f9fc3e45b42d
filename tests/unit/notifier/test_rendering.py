"""Rendering: every kind, purpose and format reads right, carries the facts people act on,
and survives hostile text and oversized lists."""

import re
from decimal import Decimal

import pytest
from rendering_samples import ACK, LINK, alert, many

from stockwire.contracts.vocabulary import AlertKind
from stockwire.notifier.rendering import (
    FORMATS,
    LIST_CAP,
    PURPOSES,
    TITLE_LIMIT,
    RenderRequest,
    escape_markdown,
    format_figure,
    render,
    render_body,
    render_title,
)

KINDS = [kind.value for kind in AlertKind] + ["asset_lost_in_transit"]
SINGLE = ["alert", "escalation", "resolved", "test"]
LISTS = ["group", "digest", "overflow", "dead_letter"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("purpose", SINGLE)
def test_every_kind_renders_location_sku_figures_and_links_in_every_format(purpose, kind, fmt):
    # Given an alert of any kind, including one no template was written for
    request = RenderRequest(purpose, [alert(kind)], ack_url=ACK, rule_name="vans")

    # When it is rendered
    body = render_body(request, fmt)

    # Then the reader gets where, what, the numbers, the link and the ack link
    for fact in ("VAN-12", "ONT-4X", "available", "requested", "3.5"):
        assert fact in body, (fact, body)
    link = LINK.replace("&", "&amp;") if fmt == "html" else LINK
    assert link in body
    assert ACK in body
    assert "{{" not in body and "{%" not in body


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("purpose", LISTS)
def test_list_messages_show_every_alert_with_its_location_sku_and_figures(purpose, fmt):
    alerts = [alert("stockout"), alert("count_variance", location="WH-1", sku="SFP-10G")]
    body = render_body(RenderRequest(purpose, alerts, ack_url=ACK), fmt)
    for fact in ("VAN-12", "WH-1", "ONT-4X", "SFP-10G", "available", ACK):
        assert fact in body, (fact, body)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_purpose_has_a_one_line_title(purpose):
    title = render_title(RenderRequest(purpose, [alert(summary="line one\nline two")]))
    assert title and "\n" not in title
    assert len(title) <= TITLE_LIMIT


def test_title_says_what_kind_where_and_how_severe():
    title = render_title(RenderRequest("alert", [alert(severity="critical")]))
    assert title == "[CRITICAL] stockout: ONT-4X ran out at VAN-12 (VAN-12)"


def test_a_huge_summary_keeps_the_title_under_its_limit():
    title = render_title(RenderRequest("alert", [alert(summary="x" * 5000)]))
    assert len(title) == TITLE_LIMIT
    assert title.endswith("…")


@pytest.mark.parametrize(
    ("kind", "heading"),
    [
        ("stockout", "**Out of stock:**"),
        ("rejected_movement", "**Movement rejected**"),
        ("serial_conflict", "**Serial conflict** on serial `SN-1`"),
        ("count_variance", "**Count variance**"),
        ("transfer_discrepancy", "**Transfer discrepancy** on transfer TR-9"),
    ],
)
def test_stock_kinds_have_their_own_markdown(kind, heading):
    body = render_body(RenderRequest("alert", [alert(kind)]), "markdown")
    assert heading in body


def test_a_kind_without_its_own_template_renders_with_the_generic_one():
    generic = render_body(RenderRequest("alert", [alert("negative_stock_allowed")]), "markdown")
    assert generic.startswith("**ONT-4X ran out at VAN-12**")


@pytest.mark.parametrize("kind", ["../_layout", "generic/../stockout", "Stockout", "a" * 65])
def test_a_kind_that_is_not_a_plain_name_never_picks_a_template_by_path(kind):
    body = render_body(RenderRequest("alert", [alert(kind)]), "markdown")
    assert body.startswith("**ONT-4X ran out at VAN-12**")
    assert "Out of stock" not in body


def test_markdown_special_characters_in_alert_text_stay_literal():
    # Given a summary and a SKU full of markdown syntax
    hostile = alert(summary="*bold* _it_ [x](http://evil) `code` <b> # h | ~s~", sku="CPE_*_X")

    # When rendered for chat
    body = render_body(RenderRequest("alert", [hostile]), "markdown")

    # Then every special character is escaped, so none of it formats the message
    assert (
        "\\*bold\\* \\_it\\_ \\[x\\]\\(http://evil\\) \\`code\\` \\<b\\> \\# h \\| \\~s\\~" in body
    )
    assert "CPE\\_\\*\\_X" in body
    assert "[x](http://evil)" not in body


def test_newlines_in_alert_text_cannot_break_the_layout():
    body = render_body(
        RenderRequest("alert", [alert(summary="first\n\n# Heading\n- item")]), "markdown"
    )
    assert "first \\# Heading - item" in body
    assert "\n# Heading" not in body


def test_html_is_escaped_and_plain_text_is_not():
    hostile = alert(summary="<script>alert(1)</script> & co", location="<VAN>")
    html = render_body(RenderRequest("alert", [hostile]), "html")
    text = render_body(RenderRequest("alert", [hostile]), "text")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "&lt;VAN&gt;" in html
    assert "<script>alert(1)</script> & co" in text


def test_escape_markdown_leaves_plain_words_and_numbers_alone():
    assert escape_markdown("VAN-12 has 3.5 left") == "VAN-12 has 3.5 left"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("3.500"), "3.5"),
        (Decimal("-2.0"), "-2"),
        (Decimal("0.000"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("12345678901234567890.25"), "12345678901234567890.25"),
        (7, "7"),
    ],
)
def test_figures_are_written_as_people_write_numbers(value, shown):
    assert format_figure(value) == shown


def test_a_digest_lists_the_first_alerts_and_counts_the_rest():
    body = render_body(RenderRequest("digest", many(400)), "markdown")
    assert "Digest: 400 alerts (400 stockout)" in body
    assert body.count("\n- **WARNING**") == LIST_CAP
    assert f"and **{400 - LIST_CAP}** more (400 in all)" in body


def test_critical_alerts_are_listed_first_in_a_digest():
    alerts = [*many(30), alert(severity="critical", summary="the one that matters")]
    body = render_body(RenderRequest("digest", alerts), "text")
    assert body.index("the one that matters") < body.index("alert 0")


@pytest.mark.parametrize("limit", [1000, 2000, 3700])
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_oversized_digest_fits_the_limit_and_still_counts_every_alert(fmt, limit):
    # Given far more alerts than fit in one chat message
    alerts = many(5000)

    # When the digest is rendered under the channel's limit
    body = render_body(RenderRequest("digest", alerts, ack_url=ACK), fmt, limit)

    # Then it fits, counts them all, says how many are not listed, and keeps the ack link
    assert len(body) <= limit
    assert "5000" in body
    listed = len(re.findall(r"alert \d+", body))
    more = int(re.search(r"and (?:\*\*)?(\d+)(?:\*\*)? more", body).group(1))
    assert listed >= 1
    assert listed + more == 5000
    assert ACK in body


def test_a_single_alert_too_big_for_the_channel_is_cut_at_a_line_end():
    huge = alert(summary="s" * 500, labels={f"label{i}": "v" * 60 for i in range(32)})
    body = render_body(RenderRequest("alert", [huge]), "markdown", 1000)
    assert len(body) <= 1000
    assert body.endswith("… (message shortened)")
    assert "VAN-12" in body


def test_render_gives_each_requested_format_and_always_text():
    rendered = render(RenderRequest("alert", [alert()]), ["markdown"])
    assert rendered.markdown and rendered.text
    assert rendered.html is None


@pytest.mark.parametrize(
    ("purpose", "severity", "tone"),
    [
        ("alert", "critical", "failure"),
        ("alert", "warning", "warning"),
        ("alert", "info", "info"),
        ("resolved", "critical", "success"),
        ("dead_letter", "info", "failure"),
        ("escalation", "info", "warning"),
    ],
)
def test_tone_follows_purpose_and_severity(purpose, severity, tone):
    rendered = render(RenderRequest(purpose, [alert(severity=severity)]), ["text"])
    assert rendered.tone == tone


def test_a_test_message_needs_no_alert():
    rendered = render(RenderRequest("test", []), FORMATS)
    assert rendered.title == "Stockwire test message"
    assert "this channel works" in rendered.text


@pytest.mark.parametrize("purpose", [p for p in PURPOSES if p != "test"])
def test_a_message_about_no_alert_is_refused(purpose):
    with pytest.raises(ValueError, match="at least one alert"):
        render(RenderRequest(purpose, []), FORMATS)


def test_an_alert_without_location_or_sku_still_renders():
    bare = alert("site_outage", location=None, region=None, sku=None, category=None)
    body = render_body(RenderRequest("alert", [bare], ack_url=ACK), "text")
    assert "Location: -" in body
    assert "SKU: -" in body
