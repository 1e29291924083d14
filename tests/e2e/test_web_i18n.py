"""The interface in Chinese (Simplified), chosen with ?lang= and kept in a cookie."""

from __future__ import annotations

from typing import Any

from tests.helpers.servers import Site
from tests.helpers.web import login


def test_the_chinese_interface_renders(page: Any, site: Site) -> None:
    login(page, site.url, "ann", lang="zh-CN")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.text_content("#start-export") == "开始导出"
    assert page.text_content(".mainnav a[aria-current=page]") == "录像导出"
    page.wait_for_selector("[data-camera='cam1']")
    page.check("[data-camera='cam1']")
    assert page.text_content("#selected-count") == "已选 1 个"
    assert page.text_content("#zone-label").startswith("时间均为 Asia/Shanghai")
    page.click("text=导出历史")
    page.wait_for_url("**/history")
    assert page.text_content("h1") == "导出历史"
    page.click("text=English")
    assert page.text_content("h1") == "Export history"
