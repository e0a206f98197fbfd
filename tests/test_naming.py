"""File names as schools really write them."""

import pytest

from intake.campaigns.naming import match_name, split_ending
from intake.store.archive import safe_filename

PATTERNS = {"report": "{school}报告", "case": "{school}改进案例"}


@pytest.mark.parametrize(
    ("name", "kind", "school", "slot"),
    [
        ("双流区实验小学报告.docx", "report", "双流区实验小学", "1"),
        ("双流区实验小学 报告.DOCX", "report", "双流区实验小学", "1"),
        ("双流区实验小学-改进案例1.doc", "case", "双流区实验小学", "1"),
        ("双流区实验小学改进案例（一）.wps", "case", "双流区实验小学", "1"),
        ("双流区实验小学改进案例(二).pdf", "case", "双流区实验小学", "2"),
        ("ＸＸ学校改进案例２.docx", "case", "XX学校", "2"),
        ("“棠湖中学”报告.zip", "report", "棠湖中学", "1"),
        ("双流区实验小学解读和改进活动报告.docx", "report", "双流区实验小学", "1"),
        # What people put before the name is not part of the school's name.
        ("Re: XX学校报告", "report", "XX学校", "1"),
        ("转发：XX小学报告", "report", "XX小学", "1"),
        ("附件1：XX学校报告.docx", "report", "XX学校", "1"),
        ("1.XX学校报告.docx", "report", "XX学校", "1"),
        ("回复：【未受理】XX学校报告（SL21-00012）", "report", "XX学校", "1"),
        ("【报告】XX学校报告", "report", "XX学校", "1"),
        ("(转)XX学校报告.docx", "report", "XX学校", "1"),
        # Dates, drafts and grades after the kind word are not case numbers.
        ("XX学校改进案例（第二稿）.docx", "case", "XX学校", "1"),
        ("XX学校改进案例_v2.docx", "case", "XX学校", "1"),
        ("XX学校改进案例（2021）.docx", "case", "XX学校", "1"),
        ("XX学校改进案例（5.20修改）.docx", "case", "XX学校", "1"),
        ("XX学校改进案例（初三年级）.docx", "case", "XX学校", "1"),
        ("XX学校改进案例一.doc", "case", "XX学校", "1"),
        ("XX学校改进案例（十二）.docx", "case", "XX学校", "12"),
        ("XX小学2021年改进案例.docx", "case", "XX小学", "1"),
        # The kind named first wins.
        ("XX学校报告（附改进案例）.docx", "report", "XX学校", "1"),
    ],
)
def test_kind_school_and_case_number_are_read_from_names(name, kind, school, slot):
    found = match_name(name, PATTERNS)
    assert found is not None
    assert (found.kind, found.school, found.slot) == (kind, school, slot)


def test_names_that_say_nothing_are_not_matched():
    assert match_name("新建 Microsoft Word 文档.docx", PATTERNS) is None


def test_endings_are_case_folded():
    assert split_ending("报告.DOCX") == ("报告", ".docx")


@pytest.mark.parametrize(
    "hostile",
    ["../../etc/passwd", "/abs/path.docx", "C:\\x\\y.doc", "CON", "a\x00b\x1f.docx", ".hidden"],
)
def test_stored_names_cannot_escape_or_hide(hostile):
    safe = safe_filename(hostile)
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert all(ord(ch) >= 32 for ch in safe) and safe.lower() != "con"


def test_long_chinese_names_fit_a_file_system():
    safe = safe_filename("长" * 400 + ".docx")
    assert len(safe.encode()) <= 200 and safe.endswith(".docx")
