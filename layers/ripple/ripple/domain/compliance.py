"""Campaign compliance: reward outcomes, never the act of sharing.

WeChat's external-link rules (and Douyin's, Xiaohongshu's) forbid inducing people to share
with a reward ("转发有奖", "share to win"). Ripple pays for what happens after a share
(unique human visits, forwards observed through tokens, leads, conversions), and the rules
object cannot even express "points per share" (see ``validation._points``). This module
checks the words a campaign shows the public: its name and every hosted-page copy. A match
is rejected with the rule it breaks, so the admin can reword it before anyone sees it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ripple.domain.errors import ValidationError

__all__ = ["RULE_INDUCED_SHARING", "check_campaign", "find_induced_sharing"]

RULE_INDUCED_SHARING = "induced-sharing"

# Asking to share *for* a reward, in the languages Ripple serves. Plain mentions of
# sharing ("share with a friend who needs it") are fine; the pattern needs a reward word.
_PATTERNS = [
    # zh-Hans / zh-Hant: 转发/分享/转载/集赞 ... 有奖/得/领/送/抽奖/红包/奖励/积分
    re.compile(
        r"(转发|轉發|分享|转载|轉載|集赞|集讚|朋友圈)[^\u3002\uff01!\uff1f?\n]{0,12}(有奖|有獎|领取|領取|抽奖|抽獎|红包|紅包|奖励|獎勵|积分|積分|礼品|禮品|赢取|贏取)"
    ),
    re.compile(r"(有奖|有獎|抽奖|抽獎|红包|紅包)[^\u3002\uff01!\uff1f?\n]{0,8}(转发|轉發|分享)"),
    # ja: シェア/拡散/リツイート ... で/して ... プレゼント/当たる/もらえる/ポイント
    re.compile(
        r"(シェア|拡散|リツイート|RT)[^\u3002\uff01!\uff1f?\n]{0,12}(プレゼント|当たる|もらえる|ポイント|抽選|特典)"
    ),
    # en
    re.compile(
        r"\b(share|forward|retweet|repost)\w*\b[^.!?\n]{0,30}\b(to win|and win|for a chance|to get|to earn|for points|"
        r"reward|prize|gift|bonus)",
        re.IGNORECASE,
    ),
]


def find_induced_sharing(text: str) -> str | None:
    """The offending phrase, or None."""
    normalised = unicodedata.normalize("NFKC", text)
    for pattern in _PATTERNS:
        match = pattern.search(normalised)
        if match:
            return match.group(0)
    return None


def check_campaign(name: str, landing: dict[str, Any] | None) -> None:
    """Raise ValidationError (422) naming the rule and the field when a campaign's public
    words ask people to share for a reward."""
    fields: list[tuple[str, str]] = [("name", name)]
    for lang, copy in ((landing or {}).get("copy") or {}).items():
        for key in ("title", "body", "cta"):
            fields.append((f"landing.copy.{lang}.{key}", str(copy.get(key) or "")))
    for field_name, text in fields:
        phrase = find_induced_sharing(text)
        if phrase:
            raise ValidationError(
                f"{field_name} asks people to share for a reward ({phrase!r}); reward outcomes, not shares",
                details={"field": field_name, "rule": RULE_INDUCED_SHARING, "match": phrase},
            )
