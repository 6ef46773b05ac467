"""Acquisition channels: how much of the traffic each brings, and what the paid ones cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANNELS = ("organic", "google_ads", "paid_social", "referral", "content")
CHANNEL_SHARE = np.array([0.34, 0.22, 0.2, 0.1, 0.14])
# Referred users arrive with a colleague already using the product; paid social traffic is colder.
CHANNEL_ENGAGEMENT = np.array([0.1, 0.0, -0.2, 0.35, 0.1])


@dataclass(frozen=True)
class PaidChannel:
    """An acquisition channel that is bought: its unit costs and campaigns."""

    name: str
    cost_per_signup: float  # USD of spend per sign-up it brings
    cpm: float  # USD per thousand impressions
    ctr: float  # clicks per impression
    campaigns: tuple[tuple[str, float, str], ...]  # (campaign, share of spend, ad platform)

    @property
    def campaign_shares(self) -> np.ndarray:
        """Each campaign's share of the channel's spend and sign-ups."""
        return np.array([share for _, share, _ in self.campaigns])


PAID_CHANNELS = (
    PaidChannel(
        "google_ads",
        58.0,
        14.0,
        0.034,
        (
            ("search_brand", 0.25, "Google Ads"),
            ("search_generic", 0.55, "Google Ads"),
            ("competitor_terms", 0.2, "Google Ads"),
        ),
    ),
    PaidChannel(
        "paid_social",
        44.0,
        8.5,
        0.009,
        (
            ("linkedin_prospecting", 0.6, "LinkedIn"),
            ("meta_retargeting", 0.4, "Meta"),
        ),
    ),
)
