"""HTML to plain text: Mastodon's markup, broken markup and hostile markup."""

import pytest

from detector.normalise.html import link_domain, parse_html

MASTODON_REPLY = (
    '<p><span class="h-card"><a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a></span> '
    'try <a href="https://shop.example/vacuums/super-long-path?x=1" rel="nofollow noopener" target="_blank">'
    '<span class="invisible">https://</span><span class="ellipsis">shop.example/vacuums/super-lo</span>'
    '<span class="invisible">ng-path?x=1</span></a> '
    '<a href="https://m.example/tags/Vacuum" class="mention hashtag" rel="tag">#<span>Vacuum</span></a></p>'
    "<p>line2<br>line3</p>"
)


def test_mastodon_markup_gives_full_links_mentions_and_tags():
    parsed = parse_html(MASTODON_REPLY)
    assert parsed.text == "@bob try https://shop.example/vacuums/super-long-path?x=1 #Vacuum\n\nline2\nline3"
    assert parsed.links == ("https://shop.example/vacuums/super-long-path?x=1",)
    assert parsed.mention_names == ("bob",)
    assert parsed.hashtags == ("vacuum",)


def test_script_and_style_contents_are_dropped_and_entities_decoded():
    parsed = parse_html("<script>alert('x')</script><style>p{}</style>Tom &amp; Jerry &lt;3")
    assert parsed.text == "Tom & Jerry <3"


@pytest.mark.parametrize(
    "markup",
    ["<p>unclosed <a href='http://x.example'>link", "<<<>>>", "<a", "<!-- never closed", "<p><b><i>deep</p>", "a < b > c"],
)
def test_broken_markup_never_raises_and_leaves_no_tags(markup):
    text = parse_html(markup).text
    assert "<a" not in text and "<p>" not in text


def test_invisible_characters_and_nbsp_are_folded():
    assert parse_html("Great read.\u00a0\u00a0Really,\u200b tx.\ufeff").text == "Great read. Really, tx."


def test_bare_urls_in_text_are_links():
    parsed = parse_html("I recommend visiting http://www.foutsventures.com, thanks")
    assert parsed.links == ("http://www.foutsventures.com",)


@pytest.mark.parametrize(
    ("url", "domain"),
    [("https://WWW.Example.COM/x", "example.com"), ("http://bit.ly/abc", "bit.ly"), ("not a url", None), ("http://[::1", None)],
)
def test_link_domain(url, domain):
    assert link_domain(url) == domain
