"""Where visits come from and what they run on: traffic sources, referrers, UTM tags, devices."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from data_generators.randomness import RandomStream

TRAFFIC_SOURCES = (
    "organic_search", "paid_search", "social", "email", "referral", "direct", "affiliate",
)  # fmt: skip
SOURCE_INDEX = {name: i for i, name in enumerate(TRAFFIC_SOURCES)}


@dataclass(frozen=True, slots=True)
class Device:
    channel: str
    type: str
    os: str
    browser: str | None

    def as_context(self) -> dict:
        return {"type": self.type, "os": self.os, "browser": self.browser}


DEVICES: tuple[Device, ...] = (
    Device("web", "desktop", "Windows", "Chrome"),
    Device("web", "desktop", "Windows", "Edge"),
    Device("web", "desktop", "macOS", "Safari"),
    Device("web", "desktop", "macOS", "Chrome"),
    Device("web", "mobile", "iOS", "Safari"),
    Device("web", "mobile", "Android", "Chrome"),
    Device("web", "tablet", "iPadOS", "Safari"),
    Device("mobile_app", "mobile", "iOS", None),
    Device("mobile_app", "mobile", "Android", None),
    Device("mobile_app", "tablet", "iPadOS", None),
)
DEVICE_SHARES = (0.17, 0.06, 0.09, 0.05, 0.17, 0.15, 0.05, 0.13, 0.10, 0.03)
_DEVICE_CUMULATIVE = list(accumulate(DEVICE_SHARES))

# Returning customers mostly come back directly or from email (if they opted in), plus a
# lean towards the channel that first brought them.
_RETURNING_WEIGHTS = (0.20, 0.08, 0.07, 0.14, 0.05, 0.38, 0.03)
_EMAIL_WITHOUT_OPT_IN = 0.02
_OWN_CHANNEL_BOOST = 0.15
_ANONYMOUS_WEIGHTS = (0.35, 0.20, 0.17, 0.0, 0.10, 0.11, 0.07)


def _returning_cumulative(channel: int, email_opt_in: bool) -> list[float]:
    weights = list(_RETURNING_WEIGHTS)
    if not email_opt_in:
        weights[SOURCE_INDEX["email"]] = _EMAIL_WITHOUT_OPT_IN
    weights[channel] += _OWN_CHANNEL_BOOST
    return list(accumulate(weights))


_RETURNING_CUMULATIVE = {
    (channel, opt_in): _returning_cumulative(channel, opt_in)
    for channel in range(len(TRAFFIC_SOURCES))
    for opt_in in (False, True)
}
_ANONYMOUS_CUMULATIVE = list(accumulate(_ANONYMOUS_WEIGHTS))

_SEARCH_ENGINES = ("https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/")
_SOCIAL = (
    ("instagram", "https://www.instagram.com/"),
    ("facebook", "https://www.facebook.com/"),
    ("tiktok", "https://www.tiktok.com/"),
    ("pinterest", "https://www.pinterest.com/"),
)
_REFERRAL_SITES = (
    "https://blog.example.org/gift-guide",
    "https://reviews.example.net/best-of-the-year",
    "https://forum.example.com/t/where-to-buy",
)
_AFFILIATES = (
    ("dealfinder", "https://deals.example.net/"),
    ("cashbackhub", "https://cashback.example.com/"),
)
_SOCIAL_CAMPAIGNS = (None, "new_season", "creator_collab")


def device_index(stream: RandomStream) -> int:
    return stream.weighted(_DEVICE_CUMULATIVE)


def returning_source(stream: RandomStream, acquisition_channel: int, email_opt_in: bool) -> str:
    """Traffic source of a signed-in customer's visit: habits plus their original channel."""
    return TRAFFIC_SOURCES[
        stream.weighted(_RETURNING_CUMULATIVE[acquisition_channel, email_opt_in])
    ]


def anonymous_source(stream: RandomStream) -> str:
    return TRAFFIC_SOURCES[stream.weighted(_ANONYMOUS_CUMULATIVE)]


def referrer_and_utm(
    stream: RandomStream, source: str, department_slug: str, week_tag: str
) -> tuple[str | None, dict | None]:
    """The referrer URL and UTM tags a visit from `source` carries."""
    if source == "organic_search":
        return stream.pick(_SEARCH_ENGINES), None
    if source == "paid_search":
        engine = "google" if stream.chance(0.8) else "bing"
        utm = {"source": engine, "medium": "cpc", "campaign": f"search_{department_slug}"}
        return f"https://www.{engine}.com/", utm
    if source == "social":
        network, url = _SOCIAL[stream.below(len(_SOCIAL))]
        campaign = _SOCIAL_CAMPAIGNS[stream.below(len(_SOCIAL_CAMPAIGNS))]
        return url, {"source": network, "medium": "social", "campaign": campaign}
    if source == "email":
        return None, {"source": "newsletter", "medium": "email", "campaign": f"weekly_{week_tag}"}
    if source == "referral":
        return stream.pick(_REFERRAL_SITES), None
    if source == "affiliate":
        partner, url = _AFFILIATES[stream.below(len(_AFFILIATES))]
        return url, {"source": partner, "medium": "affiliate", "campaign": None}
    return None, None
