"""The people named on the author lines under a title, and what else such lines hold.

Units' names, districts, labels, job titles, departments and contact details are told apart
from names by the word lists below.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Words that end a unit's name on an author line ("双流区实验小学", "双流区教育科学研究院").
# A unit word counts only after at least one character of the unit's own name: "学校概况" is
# a heading, "实验学校" a unit.
_UNIT_WORDS = (
    "学校",
    "小学",
    "中学",
    "大学",
    "学院",
    "分校",
    "附小",
    "附中",
    "幼儿园",
    "教育局",
    "研究院",
    "研究所",
    "研究室",
    "教研室",
    "教科所",
    "中心",
)
# A district or county is a word of its own ("双流区 张三"); these words end in 区 but are not.
_NOT_DISTRICTS = ("社区", "小区", "园区", "片区", "山区", "景区", "误区", "盲区", "禁区", "雷区")
# A heading's words, never a unit's name: "以学生为中心", "基于…的小学…".
_NOT_UNIT_STARTS = ("以", "基于", "关于", "在", "对", "为", "让")
# Labels before the people they name ("作者：", "课题负责人：", "电话：").
_LABEL_WORDS = frozenset(
    {
        "作者",
        "第一作者",
        "第二作者",
        "第三作者",
        "通讯作者",
        "通信作者",
        "执笔",
        "执笔人",
        "撰稿",
        "撰稿人",
        "撰写",
        "撰写人",
        "主持",
        "主持人",
        "成员",
        "主要成员",
        "核心成员",
        "课题组成员",
        "研究成员",
        "参与人",
        "参与者",
        "负责人",
        "课题负责人",
        "项目负责人",
        "报告人",
        "申报人",
        "指导",
        "指导者",
        "指导教师",
        "指导老师",
        "联系人",
        "姓名",
        "单位",
        "工作单位",
        "学校",
        "地址",
        "通讯地址",
        "电话",
        "联系电话",
        "手机",
        "联系方式",
        "邮箱",
        "电子邮箱",
        "邮编",
    }
)
# A known label followed by a colon: the line names people ("作者：张三").
_LABEL = re.compile("(" + "|".join(sorted(_LABEL_WORDS, key=len, reverse=True)) + r")\s*:")
# Job titles: "校长", "张三校长" (张三), "语文教师", "教导主任" (no one).
_TITLES = (
    "校长",
    "主任",
    "书记",
    "老师",
    "教师",
    "组长",
    "干事",
    "园长",
    "院长",
    "所长",
    "局长",
    "主席",
    "教研员",
    "辅导员",
    "带头人",
)
# What goes before a job title without being a name: "语文教师", "教导主任", "骨干教师".
_TITLE_QUALIFIERS = frozenset(
    {
        *("语文", "数学", "英语", "外语", "物理", "化学", "生物", "历史", "地理", "政治"),
        *("道法", "道德与法治", "思品", "品德", "科学", "音乐", "美术", "体育", "健康"),
        *("体育与健康", "信息", "信息技术", "综合实践", "劳动", "书法", "舞蹈", "心理"),
        *("心理健康", "幼儿", "学前", "特教", "科任", "任课", "代课", "专任", "专职", "兼职"),
        *("实习", "见习", "特岗", "支教", "交流", "骨干", "优秀", "青年", "资深", "首席"),
        *("执行", "常务", "名誉", "学科", "班", "年级", "备课", "教研", "教导", "教务"),
        *("德育", "政教", "总务", "后勤", "安全", "卫生", "保健", "工会", "团委", "少先队"),
        *("大队", "中队", "党支部", "党总支", "支部", "校办", "研训", "科研", "教科"),
        *("电教", "图书", "实验", "年级组", "教研组", "备课组", "课题组"),
        *("特级", "高级", "正高级", "副高级", "中级", "初级", "一级", "二级", "三级"),
    }
)
_QUALIFIERS_LONGEST_FIRST = tuple(sorted(_TITLE_QUALIFIERS, key=len, reverse=True))
# Common Chinese surnames: a name glued to a unit's name ("双流区实验小学张三") or alone on a
# line below it must start with one, so "以双流区实验小学为例" and "实践" are not names.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史"
    "陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷"
    "詹申欧耿兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳"
    "柴蒙鲍华喻祁蒲滕屈饶牟艾尤阳穆农卓古吉缪简车褚娄窦戚岑宫卜冷晏席卫米柏宗瞿桂佟臧闵"
    "苟邬卞姬仇栾隋刁荣巫寇桑郎甄丛仲虞敖巩佘池苑迟邝匡鞠荆冀郁胥储栗燕楚鄢谌奚粟冼蔺"
    "阚帅屠朴廉禹漆卿狄晋扈晁芮邸雍辜裘亓邰赫杭逯茹嵇湛檀昝"
)
# A department or a class: "教导处", "教科室", "课题组", "德育科", "三年级", "五年级二班".
_DEPARTMENT = re.compile(
    r"(.[处室组部办]|中心|[务育研训教学政卫]科|年级|[一二三四五六七八九十\d]班)$"
)
_BRACKETED = re.compile(r"[(\[【〔][^)\]】〕]*[)\]】〕]")
# One token of an author line and whether a colon follows it (the line is NFKC-normalised).
_TOKEN = re.compile(r"([^\s,;、:/|]+)\s*(:)?")
_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
# Two single characters spaced apart are one two-character name padded to line up: "张　三".
_PADDED_NAME = re.compile(
    r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]) +([\u4e00-\u9fff])(?![\u4e00-\u9fff])"
)
_NOT_NAMES = frozenset({"等", "等人"})
# Words of a section heading, never of a person's name ("摘要", "问题提出", "实施过程").
_TOPIC_WORDS = (
    "摘要",
    "前言",
    "引言",
    "序言",
    "目录",
    "关键",
    "正文",
    "概述",
    "概况",
    "简介",
    "结语",
    "结束语",
    "总结",
    "小结",
    "附件",
    "附录",
    "参考",
    "背景",
    "问题",
    "分析",
    "措施",
    "成效",
    "反思",
    "经验",
    "不足",
    "打算",
    "结果",
    "现状",
    "目标",
    "思路",
    "做法",
    "策略",
    "内容",
    "方法",
    "实施",
    "过程",
    "效果",
    "成果",
    "展望",
    "案例",
    "报告",
    "评价",
    "改进",
    "数据",
    "解读",
    "结论",
    "启示",
    "体会",
    "建议",
    "对策",
    "特色",
    "亮点",
    "困惑",
    "后记",
    "致谢",
    "说明",
)


def signatories(author_lines: Iterable[str]) -> tuple[str, ...]:
    """The people named on the author line(s), in order, each once.

    Bracketed parts are removed ("（双流区棠湖中学）"), a two-character name padded to three
    ("张　三") is joined again, and each line is split on spaces (also U+3000), 、，,；;: into
    tokens. A unit's name is cut from every token that holds one (up to and including its
    last unit word such as 小学, 中学, 学校, 研究院, 中心, 幼儿园: "双流区棠湖中学 张三
    双流区实验小学 李四" → 张三, 李四), as are districts ("双流区"). Not people: a word before
    a colon ("作者：", "主持人：", "电话："), labels without one ("课题负责人", "执笔"),
    job titles ("校长", "副校长", "教导主任", "语文教师", "班主任", "骨干教师"), departments
    and classes ("教导处", "教科室", "课题组", "三年级二班"), phone numbers, e-mail addresses and
    dates, "等". A title glued to a name is cut off ("张三校长", "校长张三" → 张三), and a
    token of two names joined by 和/与 is split. What remains of 2–4 Chinese characters is a
    name, unless it is a heading's word ("背景", "不足") or a place ("成都市").
    "双流区实验小学 校长 张三 教导主任 李四" → ("张三", "李四").
    """
    lines = (author_lines,) if isinstance(author_lines, str) else author_lines
    names: dict[str, None] = {}
    for line in lines:
        for name in parse_line(line).names:
            names.setdefault(name, None)
    return tuple(names)


@dataclass(frozen=True)
class ParsedLine:
    """What one author line holds."""

    names: list[str]
    unit: bool  # a token names a unit or a district
    labelled: bool  # a known label with a colon: "作者："
    people: bool  # every token is a unit, a name, a label, a job title, a contact detail…
    tokens: int


def parse_line(line: str) -> ParsedLine:
    """The people on one line: units' names, labels, titles and contact details left out."""
    text = unicodedata.normalize("NFKC", line)
    bracketed = [match.group()[1:-1] for match in _BRACKETED.finditer(text)]
    unit = any(
        _unit_token(match.group(1)) is not None
        for part in bracketed
        for match in _TOKEN.finditer(part)
    )
    text = _BRACKETED.sub(" ", text)
    labelled = _LABEL.search(text) is not None
    text = _PADDED_NAME.sub(r"\1\2", text)
    names: list[str] = []
    people = True
    tokens = 0
    for match in _TOKEN.finditer(text):
        token, colon = match.group(1), match.group(2)
        tokens += 1
        found = _unit_token(token)
        if found is not None:
            unit = True
        elif colon:
            # "主持人：", "申报人：": a label, unless it is a heading's ("问题：", "关键词：").
            if token not in _LABEL_WORDS and any(word in token for word in _TOPIC_WORDS):
                people = False
            continue
        else:
            found = _people(token)
        if found is None:
            people = False
        else:
            names.extend(found)
    return ParsedLine(names, unit, labelled, people, tokens)


def _unit_token(token: str) -> list[str] | None:
    """For a token naming a unit, the people after its name (none, "张三", "教导处" → []).

    None when the token names no unit: no unit word after the unit's own name ("学校概况"),
    nor a district, or something else follows it ("双流区实验小学的做法").
    """
    if _is_district(token):
        return []
    if token.startswith(_NOT_UNIT_STARTS):
        return None
    ends = [token.rfind(word) + len(word) for word in _UNIT_WORDS if token.rfind(word) >= 1]
    if not ends:
        return None
    rest = token[max(ends) :]
    if not rest:
        return []
    found = _people(rest)
    if found is None or not all(_starts_with_surname(name) for name in found):
        return None
    return found


def _is_district(token: str) -> bool:
    return (
        len(token) >= 3
        and token.endswith(("区", "县"))
        and _CJK.fullmatch(token) is not None
        and not token.endswith(_NOT_DISTRICTS)
    )


def _people(token: str) -> list[str] | None:
    """The names one token holds ([] for "等", a label, a title, a department, a phone number),
    or None when it is not about people at all."""
    if (
        token in _NOT_NAMES
        or token in _LABEL_WORDS
        or token in _TITLE_QUALIFIERS
        or _DEPARTMENT.search(token)
        or _is_contact(token)
    ):
        return []
    for suffix in ("等人", "等"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            token = token[: -len(suffix)]
            break
    holder = _title_holder(token)
    if holder is not None:
        return [holder] if holder else []
    # A title or label glued before the name: "校长张三", "执笔人李四".
    for cut in range(len(token) - 2, 1, -1):
        head, tail = token[:cut], token[cut:]
        if (head in _LABEL_WORDS or _title_holder(head) == "") and _is_name(tail):
            return [tail]
    if _is_name(token):
        return [token]
    if len(token) > 4:
        # "张三和李四": split at a 和/与 that leaves a name on both sides.
        for position, char in enumerate(token):
            if char in "和与" and _is_name(token[:position]):
                rest = _people(token[position + 1 :])
                if rest:
                    return [token[:position], *rest]
    return None


def _is_contact(token: str) -> bool:
    """A phone number, an e-mail address, a date: digits, Latin letters or "@"."""
    return any(
        char.isdigit() or (char.isascii() and char.isalpha()) or char == "@" for char in token
    )


def _title_holder(token: str) -> str | None:
    """For a token ending in a job title, the name before it ("张三校长" → "张三"), or "" for a
    title alone ("校长", "副校长", "语文教师", "三年级语文教师", "教科室主任"); None when
    the token does not end in a job title."""
    title = next((title for title in _TITLES if token.endswith(title)), None)
    if title is None:
        return None
    head = token[: -len(title)].removesuffix("副")
    while qualifier := next((q for q in _QUALIFIERS_LONGEST_FIRST if head.endswith(q)), ""):
        head = head[: -len(qualifier)]
    return head if _is_name(head) else ""


def _is_name(token: str) -> bool:
    return (
        _NAME.fullmatch(token) is not None
        and token not in _NOT_NAMES
        and token not in _LABEL_WORDS
        and token not in _TITLE_QUALIFIERS
        and not token.endswith(("区", "县", "市", "省", "局", "族"))
        and not token.endswith(_TITLES)
        and _DEPARTMENT.search(token) is None
        and not any(word in token for word in _TOPIC_WORDS)
        and not any(word in token for word in _UNIT_WORDS)
    )


def is_lone_name(name: str) -> bool:
    """A phrase alone on a line that is a person's name: 2–3 characters, a common surname."""
    return len(name) <= 3 and _starts_with_surname(name)


def _starts_with_surname(name: str) -> bool:
    return name[:1] in _SURNAMES
