"""Query expansion with synonyms: customers say 座机 where the knowledge base says 固话.

A group lists words that mean the same thing to a telecom contact center, the customer's word
and the article's word side by side; a query term found in a group brings in the terms of the
other members. Members are analysed like any text (so 固定电话 brings 固定, 电话 and 固定电话),
and the expansion is done on the query only: the index stays the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from lianluo.domain.kb.tokenize import normalize, tokenize

# Colloquial ↔ service vocabulary of a Chinese carrier's knowledge base, and its English
# counterpart. A tenant's own groups come on top of these.
DEFAULT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("座机", "固话", "固定电话"),
    ("扣钱", "扣费", "收费", "计费"),
    ("多少钱", "资费", "费用", "收费"),
    ("关掉", "关闭", "取消", "退订"),
    ("国外", "境外", "海外", "出国", "出境", "国际漫游"),
    ("接电话", "接听"),
    ("打电话", "拨打", "通话", "语音"),
    ("上网", "流量"),
    ("装网", "装宽带", "新装宽带"),
    ("搬家", "移机", "迁移"),
    ("空间", "容量"),
    ("电视盒子", "机顶盒", "iptv"),
    ("手机卡", "sim卡", "sim"),
    ("换", "更换", "变更", "改"),
    ("好几个", "多个", "叠加"),
    ("加", "添加", "增加"),
    ("剩", "剩余", "余额"),
    ("查", "查询"),
    ("退钱", "退款", "退费"),
    ("不想用", "解约", "退订"),
    ("收不到", "接收不到", "拦截"),
    ("网速", "网络速度", "宽带速度"),
    ("降级", "降档"),
    ("多扣", "乱扣", "异常扣费", "重复扣费"),
    ("没信号", "信号差", "信号弱"),
    ("invoice", "receipt"),
    ("abroad", "overseas", "roaming", "international"),
    ("price", "cost", "rate", "fee", "charge"),
    ("internet", "broadband", "data"),
    ("people", "member"),
    ("cut off", "suspend", "disconnect", "reconnect"),
    ("cancel", "terminate", "end"),
    ("pay", "credit", "top-up"),
    ("calling", "caller"),
    ("refund", "money back"),
)

Expansions = Mapping[str, tuple[str, ...]]


def expansions(groups: Iterable[Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """For every term of every member, the terms of the group's other members."""
    found: dict[str, list[str]] = {}
    for group in groups:
        members = [list(dict.fromkeys(tokenize(word))) for word in group]
        for i, member in enumerate(members):
            others = [t for j, m in enumerate(members) if j != i for t in m]
            whole = normalize(group[i]).replace(" ", "")
            for term in member if len(member) == 1 else [t for t in member if t == whole]:
                found.setdefault(term, []).extend(t for t in others if t not in member)
    return {term: tuple(dict.fromkeys(others)) for term, others in found.items()}


DEFAULT_EXPANSIONS = expansions(DEFAULT_GROUPS)


def expand(terms: Sequence[str], table: Expansions = DEFAULT_EXPANSIONS) -> list[str]:
    """The query terms, then the synonyms they bring, each term once."""
    out = dict.fromkeys(terms)
    for term in terms:
        out.update(dict.fromkeys(table.get(term, ())))
    return list(out)
