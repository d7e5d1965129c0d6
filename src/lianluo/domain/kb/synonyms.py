"""Query expansion with synonyms: customers say 座机 where the knowledge base says 固话.

A group lists words that mean the same thing to a telecom contact center, the customer's word
and the article's word side by side. A member is a phrase of one or more words (`words`), found
in a query as that run of words (不想用 is three characters jieba cuts in two, "cut off" two
words); it brings the index terms of the other members, each weighing `SYNONYM_WEIGHT` of a
term the customer typed, so an article in the customer's own words still comes first and a rare
synonym cannot outweigh the query (Lucene's SynonymQuery makes the same point with its blended
document frequency). The expansion is done on the query only: the index stays the same.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence

from lianluo.domain.kb.tokenize import word_terms, words

SYNONYM_WEIGHT = 0.8
COMPOUND_PART_WEIGHT = 0.5  # 国际 in 国际漫游: a part of a compound says less than the compound
MAX_GROUP_MEMBERS = 20
MAX_MEMBER_LENGTH = 40

# Colloquial ↔ service vocabulary of a Chinese carrier's knowledge base, and its English
# counterpart. A tenant's own groups come on top of these.
DEFAULT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("座机", "固话", "固定电话"),
    ("扣钱", "扣费", "收费", "计费", "扣款"),
    ("多少钱", "资费", "费用", "收费"),
    ("关掉", "关闭", "取消", "退订", "不想要", "不要了"),
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
    # General customer-service words (kb12): what a caller says of a card, a bill, a
    # complaint, a carrier, a screen, beside the words a carrier's articles use.
    ("丢", "丢了", "丢失", "遗失", "被偷", "被盗"),
    ("补", "补办", "补卡"),
    ("坏", "坏了", "损坏", "故障"),
    ("两遍", "两次", "重复"),
    ("扣", "扣了", "扣费"),
    ("交钱", "缴费", "交费", "充值", "充钱"),
    ("运营商", "携号转网", "携转", "转网"),
    ("画面", "图像", "黑屏", "花屏"),
    ("看不到", "不显示", "显示"),
    ("来电号码", "来电显示"),
    ("投诉", "不满", "申诉"),
    ("经理", "主管", "领导", "升级"),
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
    ("lost", "stolen", "missing"),
    ("replace", "replacement", "new"),
    ("complain", "complaint", "dispute"),
    ("manager", "supervisor", "escalate"),
    ("weak", "poor", "bad", "drop"),
    ("signal", "coverage", "reception"),
    ("home", "house", "place"),
    ("modem", "router", "gateway"),
    ("greeting", "message"),
    ("email", "e-mail", "mail"),
    ("offer", "discount", "deal", "promotion"),
    ("another", "more", "extra", "additional"),
    ("see", "show", "display"),
    ("who is calling", "caller id"),
)

Phrase = tuple[str, ...]
# A member phrase (its words) → the index terms it brings, with their weights.
SynonymTable = Mapping[Phrase, Mapping[str, float]]


def weighted_terms(word: str) -> dict[str, float]:
    """The index terms of one word: the word at 1, the parts of a compound less."""
    return {t: 1.0 if t == word else COMPOUND_PART_WEIGHT for t in word_terms(word)}


def synonym_table(groups: Iterable[Sequence[str]]) -> dict[Phrase, dict[str, float]]:
    """For every member phrase of every group, the terms of the group's other members."""
    table: dict[Phrase, dict[str, float]] = {}
    for group in groups:
        phrases = [tuple(words(member)) for member in group]
        for i, phrase in enumerate(phrases):
            if not phrase:
                continue
            brought = table.setdefault(phrase, {})
            for j, other in enumerate(phrases):
                if j == i or other == phrase:
                    continue
                for word in other:
                    for term, weight in weighted_terms(word).items():
                        if term not in phrase:
                            brought[term] = max(brought.get(term, 0.0), SYNONYM_WEIGHT * weight)
    return {phrase: terms for phrase, terms in table.items() if terms}


@functools.lru_cache(maxsize=256)
def cached_table(groups: tuple[tuple[str, ...], ...]) -> dict[Phrase, dict[str, float]]:
    """`synonym_table` of the default groups and the given ones (a tenant's), kept."""
    return synonym_table((*DEFAULT_GROUPS, *groups))


DEFAULT_TABLE: SynonymTable = cached_table(())


def longest_phrase(table: SynonymTable) -> int:
    return max((len(p) for p in table), default=1)
