"""Catalogue editing (制单): services, keywords and examples; every save is a new validated version."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import catalogue as store
from bot.admin.context import (
    VERSION,
    bp,
    form_errors,
    hub_id,
    nlu,
    now,
    reading,
    rejected,
    requires,
    run_change,
    services,
    staff,
)
from bot.admin.forms import ActionForm, ServiceForm
from intents.catalogue import CatalogueError, catalogue_from_mapping
from storage.models_admin import CatalogueVersion


@bp.get("/catalogue")
@requires("catalogue.edit")
def catalogue_page() -> str:
    with reading() as s:
        cat = nlu(s).catalogue
        version = store.latest_version(s, hub_id())
        history = [{"version": v.version, "note": v.note or "", "by": v.created_by, "at": v.created_at,
                    "count": len(v.data.get("service", []))} for v in store.versions(s, hub_id())]
    items = [{"code": sv.code, "name": sv.name, "team": sv.team, "at_home": sv.at_home,
              "duration": sv.duration_minutes, "keywords": "、".join(sv.keywords[:8]),
              "examples": len(sv.examples)} for sv in cat]
    return render_template("admin/catalogue.html", items=items, version=version, history=history,
                           action_form=ActionForm(), source_file=services().config.catalogue_path or "内置目录")


def _fill(form: ServiceForm, entry: dict[str, Any]) -> None:
    form.code.data, form.name.data, form.description.data = entry["code"], entry["name"], entry["description"]
    form.team.data, form.at_home.data = entry["team"], entry["at_home"]
    form.duration_minutes.data, form.minors_ok.data = entry["duration_minutes"], entry["minors_ok"]
    form.keywords.data = "\n".join(entry["keywords"])
    form.hints.data = "\n".join(entry.get("hints", []))
    form.examples.data = "\n".join(entry.get("examples", []))


@bp.route("/catalogue/new", methods=["GET", "POST"])
@bp.route("/catalogue/<code>", methods=["GET", "POST"])
@requires("catalogue.edit")
def catalogue_service(code: str | None = None) -> Any:
    form = ServiceForm()
    if form.validate_on_submit():
        entry = form.entry()

        def change(s: Session) -> str:
            data = store.with_service(nlu(s).catalogue, entry, code)
            row = store.save_version(s, hub_id(), data, actor=staff().actor, now=now(),
                                     note=form.note.data or f"{'修改' if code else '新增'}服务 {entry['name']}")
            return f"已保存为第{row.version}版，马上生效。"
        back = url_for("admin.catalogue_page")
        response = run_change(change, back)
        _warm()
        return response
    if form.is_submitted():
        form_errors(form)
    elif code is not None:
        with reading() as s:
            cat = nlu(s).catalogue
        if code not in cat:
            abort(404)
        entry = store.as_mapping(cat)["service"][cat.codes.index(code)]
        _fill(form, entry)
    return render_template("admin/catalogue_edit.html", form=form, code=code)


@bp.post("/catalogue/<code>/delete")
@requires("catalogue.edit")
def catalogue_delete(code: str) -> Any:
    form = ActionForm()
    if rejected(form):
        return redirect(url_for("admin.catalogue_page"))

    def change(s: Session) -> str:
        data = store.without_service(nlu(s).catalogue, code)
        row = store.save_version(s, hub_id(), data, actor=staff().actor, now=now(), note=f"删除服务 {code}")
        return f"已删除，保存为第{row.version}版。"
    return run_change(change, url_for("admin.catalogue_page"))


@bp.post(f"/catalogue/versions/<{VERSION}:version>/restore")
@requires("catalogue.edit")
def catalogue_restore(version: int) -> Any:
    form = ActionForm()
    if rejected(form):
        return redirect(url_for("admin.catalogue_page"))

    def change(s: Session) -> str:
        old = s.execute(select(CatalogueVersion).where(CatalogueVersion.hub_id == hub_id(),
                                                       CatalogueVersion.version == version)).scalar_one_or_none()
        if old is None:
            raise CatalogueError(f"没有第{version}版。")
        catalogue_from_mapping(old.data, source=f"第{version}版")
        row = store.save_version(s, hub_id(), old.data, actor=staff().actor, now=now(), note=f"恢复第{version}版")
        return f"已恢复第{version}版的内容，保存为第{row.version}版。"
    return run_change(change, url_for("admin.catalogue_page"))


def _warm() -> None:
    """Build the new version's matcher in this process now rather than on a resident's next message."""
    with reading() as s:
        nlu(s).match("你好")
