"""The organizers' commands on a real deployment: exports, the bundle and the digest preview."""

from __future__ import annotations

import zipfile

from deployment import Deployment
from mailmaker import make_docx, make_mail
from openpyxl import load_workbook


def test_exports_bundle_and_preview_from_the_command_line(deployment: Deployment):
    report = make_docx("报告")
    deployment.deliver(
        "primary",
        make_mail(
            "t@school.example",
            "b@qq.com",
            "双流区实验小学报告",
            [("双流区实验小学报告.docx", report)],
        ),
    )
    deployment.poll()
    tmp = deployment.tmp

    deployment.intake("export", "--campaign", "sl", "-o", str(tmp / "sl.xlsx"))
    sheet = load_workbook(tmp / "sl.xlsx")["提交明细"]
    assert [cell.value for cell in sheet[2]][:3] == ["小学组", "双流区实验小学", "报告"]

    deployment.intake("export", "--campaign", "sl", "--format", "csv", "-o", str(tmp / "sl.csv"))
    assert (tmp / "sl.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    printed = deployment.intake("export", "--bundle", "-o", str(tmp / "files.zip"))
    assert "1 个文件" in printed
    with zipfile.ZipFile(tmp / "files.zip") as bundle:
        [name] = bundle.namelist()
        assert name == "小学组-双流区实验小学-报告-1.docx"
        assert bundle.read(name) == report

    text = deployment.intake("digest", "--campaign", "sl", "--preview", str(tmp / "digest.html"))
    assert "双流区实验小学" in text
    assert "双流区实验小学" in (tmp / "digest.html").read_text(encoding="utf-8")
