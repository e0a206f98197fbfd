"""Reading registration tables: real files written by LibreOffice as a school's office would.

The Annex 3 (cases) table is written as .xlsx, .xls, .docx and GB18030 .csv with a title row,
a reordered header with marks and spaces, blank template rows and notes under the table; every
format must give the same records and the same problems on the rows the sender sees.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from office import require_soffice, write_spreadsheet, write_word_table

from intake.tables import (
    ColumnSpec,
    Record,
    RowProblem,
    TableError,
    is_mobile,
    is_phone,
    is_qq,
    locate,
    normalise_header,
    read_grids,
    read_sheet,
)
from intake.tables.read import Grid, cell_text

ANNEX3 = (
    ColumnSpec("序号", counter=True),
    ColumnSpec("案例标题", aliases=("案例名称",), required=True),
    ColumnSpec("区域", aliases=("县区",), required=True),
    ColumnSpec("单位", aliases=("学校", "单位名称"), required=True),
    ColumnSpec("负责人", required=True),
    ColumnSpec("职务"),
    ColumnSpec("类别", required=True, allowed=("德育", "教学", "管理")),
    ColumnSpec("学段", required=True, allowed=("小学", "初中")),
    ColumnSpec("联系电话", aliases=("电话",), required=True, format="phone"),
)

ANNEX1 = (
    ColumnSpec("单位", required=True),
    ColumnSpec("姓名", required=True),
    ColumnSpec("职务"),
    ColumnSpec("手机号码", aliases=("手机",), required=True, format="mobile"),
    ColumnSpec("QQ号", aliases=("QQ",), format="qq"),
)

# ------------------------------------------------------------------ the Annex 3 table

TITLE = "2022年苏州市中小学德育案例征集报名表"
HEADER = ["序号", "*案例标题", "单位", "区域", "负责人", "职务", "学段", "类别", "联系 电话"]
WIDTH = len(HEADER)
NOTES = "注：1.请各县（市、区）教育局汇总后统一报送。"


def _template(number: str) -> list[str]:
    """A row of the template nobody filled in: only its 序号."""
    return [number] + [""] * (WIDTH - 1)


DATA = [
    [
        "1",
        "立德树人从班会开始",
        "苏州市实验小学",
        "姑苏区",
        "张三",
        "德育主任",
        "小 学",
        "德育",
        "13912345678",
    ],
    [
        "2",
        "作业设计的三次迭代",
        "苏州中学园区校",
        "工业园区",
        "李四",
        "",
        "初中",
        "教学",
        "0512-87660108",
    ],
    [
        "3",
        "家校共育的一次尝试",
        "吴江实验小学",
        "吴江区",
        "王五",
        "副校长",
        "小学",
        "管理",
        "(0512)87660108",
    ],
    _template("4"),
    [
        "5",
        "双减背景下的课后服务",
        "相城实验中学",
        "相城区",
        "赵六",
        "校长",
        "初中",
        "管理",
        "13912345678/0512-87660108",
    ],
    [
        "6",
        "阳光体育一小时",
        "昆山市实验小学",
        "昆山市",
        "钱七",
        "教师",
        "小学",
        "体育",
        "13800001111",
    ],
    ["7", "高中生涯规划", "苏州市第十中学", "姑苏区", "孙八", "教师", "高中", "德育", "12345"],
    ["8", "", "常熟市实验中学", "常熟市", "周九", "教师", "初中", "教学", "13700002222"],
    _template("9"),
    _template("10"),
]
# Under the table in the template; the second line must not be read as an entry either.
NOTE_ROWS = [[NOTES], ["2.联系电话请填写手机或座机。"]]

# Row offsets below the header row: spreadsheets have the title and a blank row above it.
SPREADSHEET_HEADER_ROW = 3
DOCX_HEADER_ROW = 1


def _expected_records(header_row: int) -> list[Record]:
    def record(offset: int, values: list[str]) -> Record:
        keys = ["序号", "案例标题", "单位", "区域", "负责人", "职务", "学段", "类别", "联系电话"]
        return Record(header_row + offset, dict(zip(keys, values, strict=True)))

    return [
        record(
            1,
            [
                "1",
                "立德树人从班会开始",
                "苏州市实验小学",
                "姑苏区",
                "张三",
                "德育主任",
                "小学",
                "德育",
                "13912345678",
            ],
        ),
        record(
            2,
            [
                "2",
                "作业设计的三次迭代",
                "苏州中学园区校",
                "工业园区",
                "李四",
                "",
                "初中",
                "教学",
                "0512-87660108",
            ],
        ),
        record(
            3,
            [
                "3",
                "家校共育的一次尝试",
                "吴江实验小学",
                "吴江区",
                "王五",
                "副校长",
                "小学",
                "管理",
                "(0512)87660108",
            ],
        ),
        record(
            5,
            [
                "5",
                "双减背景下的课后服务",
                "相城实验中学",
                "相城区",
                "赵六",
                "校长",
                "初中",
                "管理",
                "13912345678/0512-87660108",
            ],
        ),
    ]


def _expected_problems(header_row: int) -> list[RowProblem]:
    return [
        RowProblem(header_row + 6, "类别", "体育", "not_allowed", ("德育", "教学", "管理")),
        RowProblem(header_row + 7, "学段", "高中", "not_allowed", ("小学", "初中")),
        RowProblem(header_row + 7, "联系电话", "12345", "bad_phone"),
        RowProblem(header_row + 8, "案例标题", "", "missing"),
    ]


def _spreadsheet_rows() -> list[list[str]]:
    return [[TITLE], [], HEADER, *DATA, *NOTE_ROWS]


# ------------------------------------------------------------------ the Annex 1 table

ANNEX1_ROWS = [
    ["附件1 联系人信息表"],
    ["姓名", "单位", "ＱＱ号", "职务", "手机号码（必填）"],
    ["张三", "苏州市实验小学", "12345678", "德育主任", "13912345678"],
    ["李四", "苏州中学", "87654321@qq.com", "教师", "0512-87660108"],
    ["王五", "吴江实验小学", "1234", "教师", "13812345678"],
]


@pytest.fixture(scope="module")
def office_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every LibreOffice file of this module, converted once and side by side."""
    require_soffice()
    folder = tmp_path_factory.mktemp("office")
    jobs = {
        "xlsx": lambda: write_spreadsheet(_spreadsheet_rows(), folder / "附件3.xlsx", "xlsx"),
        "xls": lambda: write_spreadsheet(_spreadsheet_rows(), folder / "附件3.xls", "xls"),
        "docx": lambda: write_word_table(
            TITLE, [HEADER, *DATA, [NOTES]], folder / "附件3.docx", notes="联系人：市教科院"
        ),
        "annex1.xlsx": lambda: write_spreadsheet(ANNEX1_ROWS, folder / "附件1.xlsx", "xlsx"),
        "annex1.docx": lambda: write_word_table("", ANNEX1_ROWS, folder / "附件1.docx"),
    }
    # Each conversion has its own LibreOffice profile, so they can run at the same time.
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture
def annex3_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    fmt: str = request.param
    if fmt == "csv":
        return write_spreadsheet(_spreadsheet_rows(), tmp_path / "附件3.csv", "csv")
    files: dict[str, Path] = request.getfixturevalue("office_files")
    return files[fmt]


ALL_FORMATS = [
    pytest.param("xlsx", marks=pytest.mark.office),
    pytest.param("xls", marks=pytest.mark.office),
    pytest.param("docx", marks=pytest.mark.office),
    "csv",
]


def _header_row(path: Path) -> int:
    return DOCX_HEADER_ROW if path.suffix == ".docx" else SPREADSHEET_HEADER_ROW


@pytest.mark.parametrize("annex3_file", ALL_FORMATS, indirect=True)
def test_annex3_records_are_the_same_in_every_format(annex3_file: Path) -> None:
    sheet = read_sheet(annex3_file.name, annex3_file.read_bytes(), ANNEX3)

    assert sheet is not None
    assert list(sheet.records) == _expected_records(_header_row(annex3_file))
    assert sheet.missing_columns == ()


@pytest.mark.parametrize("annex3_file", ALL_FORMATS, indirect=True)
def test_annex3_problems_name_the_rows_the_sender_sees(annex3_file: Path) -> None:
    sheet = read_sheet(annex3_file.name, annex3_file.read_bytes(), ANNEX3)

    assert sheet is not None
    assert list(sheet.problems) == _expected_problems(_header_row(annex3_file))


@pytest.mark.office
def test_spreadsheet_numbers_come_back_as_typed(office_files: dict[str, Path]) -> None:
    """Calc stores 13912345678 and 序号 as numbers (xlrd: floats); they read as typed."""
    for fmt in ("xlsx", "xls"):
        path = office_files[fmt]
        [grid] = read_grids(path.name, path.read_bytes())
        header_index = grid.row_numbers.index(SPREADSHEET_HEADER_ROW)
        first = grid.cells[header_index + 1]
        assert (first[0], first[-1]) == ("1", "13912345678"), fmt
        assert grid.row_numbers[:3] == (1, 2, 3), fmt
        assert grid.cells[0][0] == TITLE, fmt


@pytest.mark.office
def test_docx_grid_has_one_table_numbered_from_its_header(office_files: dict[str, Path]) -> None:
    path = office_files["docx"]
    [grid] = read_grids(path.name, path.read_bytes())

    assert grid.name == "表格1"
    assert grid.row_numbers[0] == 1
    assert grid.cells[0] == tuple(HEADER)
    # The merged notes row keeps its text once, in its first column.
    assert grid.cells[-1] == (NOTES,) + ("",) * (WIDTH - 1)


@pytest.mark.office
@pytest.mark.parametrize("fmt", ["annex1.xlsx", "annex1.docx"])
def test_annex1_fullwidth_qq_and_noted_mobile_header(
    office_files: dict[str, Path], fmt: str
) -> None:
    path = office_files[fmt]
    sheet = read_sheet(path.name, path.read_bytes(), ANNEX1)

    assert sheet is not None
    # Both files hold the title in row 1 (a merged table row in the .docx) and the header in 2.
    assert sheet.records == (
        Record(
            3,
            {
                "单位": "苏州市实验小学",
                "姓名": "张三",
                "职务": "德育主任",
                "手机号码": "13912345678",
                "QQ号": "12345678",
            },
        ),
    )
    assert sheet.problems == (
        RowProblem(4, "手机号码", "0512-87660108", "bad_mobile"),
        RowProblem(5, "QQ号", "1234", "bad_qq"),
    )


@pytest.mark.office
@pytest.mark.parametrize("fmt", ["annex1.xlsx", "annex1.docx"])
def test_another_table_is_not_this_table(office_files: dict[str, Path], fmt: str) -> None:
    path = office_files[fmt]

    assert read_sheet(path.name, path.read_bytes(), ANNEX3) is None


@pytest.mark.office
def test_merged_docx_title_row_is_kept_once(office_files: dict[str, Path]) -> None:
    path = office_files["annex1.docx"]
    [grid] = read_grids(path.name, path.read_bytes())

    assert grid.cells[0] == ("附件1 联系人信息表", "", "", "", "")


# ------------------------------------------------------------------ without LibreOffice


def test_required_column_missing_from_header_is_reported_once(tmp_path: Path) -> None:
    without = HEADER.index("负责人")
    rows = [row[:without] + row[without + 1 :] for row in [HEADER, *DATA]]
    path = write_spreadsheet([[TITLE], *rows], tmp_path / "附件3.csv", "csv")

    sheet = read_sheet(path.name, path.read_bytes(), ANNEX3)

    assert sheet is not None
    assert sheet.missing_columns == ("负责人",)
    assert all(problem.column != "负责人" for problem in sheet.problems)
    assert [record.row for record in sheet.records] == [3, 4, 5, 7]
    assert sheet.records[0].values["负责人"] == ""


def test_file_without_the_header_is_none() -> None:
    payload = "名单\n张三,李四\n".encode()
    assert read_sheet("名单.csv", payload, ANNEX3) is None


@pytest.mark.parametrize(
    ("filename", "payload", "says"),
    [
        ("附件3.xlsx", random.Random(3).randbytes(4096), "已损坏或不是 Excel 文件"),
        ("附件3.xlsx", b"PK\x03\x04" + random.Random(4).randbytes(4096), "已损坏或不是 Excel 文件"),
        ("附件3.xls", random.Random(5).randbytes(4096), "已损坏或不是 Excel 文件"),
        ("附件3.docx", random.Random(6).randbytes(4096), "已损坏或不是 Word 文件"),
        ("附件3.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "旧版 Word 文件"),
        (
            "附件3.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"),
            "密码",
        ),
        ("附件3.pdf", b"%PDF-1.7", "只能读取 .xlsx、.xls、.docx 或 .csv"),
        ("附件3.xlsx", b"", "文件是空的"),
    ],
)
def test_unreadable_files_raise_table_error_in_chinese(
    filename: str, payload: bytes, says: str
) -> None:
    with pytest.raises(TableError) as caught:
        read_grids(filename, payload)

    message = str(caught.value)
    assert says in message
    assert f"“{filename}”" in message
    assert "重新发送" in message


def _xlsx_with_merged_title() -> bytes:
    """What Excel saves: a merged title, numbers typed as numbers, a date, styled empty rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "报名表"
    sheet.append(["附件3 案例报名表"])
    sheet.merge_cells("A1:D1")
    sheet.append(["序号", "姓名", "手机号码", "日期"])
    sheet.append([1, "张三", 13912345678, dt.datetime(2022, 2, 15)])
    sheet.append([2.0, "李四", 13912345678.0, 3.5])
    sheet["A9"].number_format = "0"  # styled, empty: not a row of the table
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_read_as_typed_text() -> None:
    [grid] = read_grids("报名表.xlsx", _xlsx_with_merged_title())

    assert grid == Grid(
        name="报名表",
        cells=(
            ("附件3 案例报名表", "", "", ""),
            ("序号", "姓名", "手机号码", "日期"),
            ("1", "张三", "13912345678", "2022-02-15"),
            ("2", "李四", "13912345678", "3.5"),
        ),
        row_numbers=(1, 2, 3, 4),
    )


def test_xlsx_renamed_to_xls_is_still_read() -> None:
    [grid] = read_grids("报名表.xls", _xlsx_with_merged_title())
    assert grid.cells[2][2] == "13912345678"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (13912345678, "13912345678"),
        (13912345678.0, "13912345678"),
        (1.0, "1"),
        (3.5, "3.5"),
        (0.1, "0.1"),
        (dt.datetime(2022, 2, 15), "2022-02-15"),
        (dt.date(2022, 2, 15), "2022-02-15"),
        ("  张三 ", "张三"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


@pytest.mark.parametrize(
    ("filename", "payload"),
    [
        ("附件3.csv", "\ufeff序号\t姓名\t手机号码\r\n1\t张三\t13912345678\r\n".encode()),
        ("附件3.csv", "序号,姓名,手机号码\n1,张三,13912345678\n".encode()),
        ("附件3.csv", "序号,姓名,手机号码\r\n1,张三,13912345678\r\n".encode("gb18030")),
        ("附件3.csv", "序号\t姓名\t手机号码\r\n1\t张三\t13912345678\r\n".encode("utf-16")),
        ("附件3．ＣＳＶ ", "序号,姓名,手机号码\n1,张三,13912345678\n".encode()),
    ],
)
def test_csv_encodings_and_delimiters(filename: str, payload: bytes) -> None:
    [grid] = read_grids(filename, payload)
    assert grid.cells == (("序号", "姓名", "手机号码"), ("1", "张三", "13912345678"))
    assert grid.row_numbers == (1, 2)


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("联系 电话", "联系电话"),
        ("联系\n电话", "联系电话"),
        ("联系\u3000电话", "联系电话"),
        ("ＱＱ号", "qq号"),
        ("QQ号", "qq号"),
        ("手机号码（必填）", "手机号码"),
        ("手机号码(必填)", "手机号码"),
        ("单位【盖章】", "单位"),
        ("*案例标题", "案例标题"),
        ("＊案例标题：", "案例标题"),
        ("案例标题*（必填）", "案例标题"),
        (" 序号 ", "序号"),
    ],
)
def test_normalise_header(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised


def _grid(*rows: list[str]) -> Grid:
    width = max(len(row) for row in rows)
    cells = tuple(tuple(row + [""] * (width - len(row))) for row in rows)
    return Grid("表格1", cells, tuple(range(1, len(rows) + 1)))


def test_locate_skips_title_and_matches_by_prefix() -> None:
    grid = _grid(
        ["附件3 案例报名表（单位 负责人 联系电话）"],
        ["学校", "负责人", "联系电话（办公）", "案例名称", "类别", "学段", "区域"],
    )
    located = locate(grid, ANNEX3)

    assert located is not None
    assert located.header_row_index == 1
    assert located.column_of["联系电话"] == 2
    assert located.column_of["单位"] == 0
    assert located.missing == ("序号", "职务")


def test_locate_prefers_an_exact_header_over_a_prefix() -> None:
    grid = _grid(["负责人联系电话", "负责人", "单位", "案例标题", "区域", "类别"])
    located = locate(grid, ANNEX3)

    assert located is not None
    # "负责人联系电话" starts with 负责人, but the exact "负责人" column wins; it is not 联系电话.
    assert located.column_of["负责人"] == 1
    assert 0 not in located.column_of.values()


def test_locate_needs_half_of_the_columns() -> None:
    grid = _grid(["单位", "负责人", "案例标题"], ["实验小学", "张三", "一个案例"])
    assert locate(grid, ANNEX3) is None


@pytest.mark.parametrize(
    "number",
    [
        "13912345678",
        "139 1234 5678",
        "139-1234-5678",
        "+86 13912345678",
        "8613912345678",
        "0512-87660108",
        "(0512)87660108",
        "（0512）87660108",
        "０５１２－８７６６０１０８",
        "0512 87660108",
        "0512—87660108",
        "051287660108",
        "010-62345678",
        "87660108",
        "8766010",
        "0512-87660108-123",
        "0512-87660108转123",
        "13912345678/0512-87660108",
        "13912345678、13812345678",
        "13912345678，0512-87660108",
        "13912345678; 0512-87660108",
        "13912345678 0512-87660108",
    ],
)
def test_valid_phones(number: str) -> None:
    assert is_phone(number)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "12345",
        "1234567",
        "12912345678",
        "139123456789",
        "0512-1234567",
        "0512-876601",
        "电话",
        "13912345678/12345",
    ],
)
def test_invalid_phones(number: str) -> None:
    assert not is_phone(number)


def test_mobile_refuses_landlines() -> None:
    assert is_mobile("139 1234 5678")
    assert is_mobile("13912345678/13812345678")
    assert not is_mobile("0512-87660108")
    assert not is_mobile("13912345678/0512-87660108")


@pytest.mark.parametrize(
    ("qq", "valid"),
    [
        ("12345", True),
        ("12345678901", True),
        ("12345678@qq.com", True),
        ("12345678@QQ.COM", True),
        ("１２３４５６７８", True),
        ("1234", False),
        ("012345", False),
        ("123456789012", False),
        ("abc@qq.com", False),
        ("12345678@163.com", False),
    ],
)
def test_qq(qq: str, valid: bool) -> None:
    assert is_qq(qq) is valid
