"""Catalogue editing (制单): services, keywords and examples; every save is a new validated version. And the hub's
own examples of what residents say (居民说法), added here or learned from orders whose service staff corrected,
each taken back with one button; the bot uses them from the next message on."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from bot.admin import catalogue as store
from bot.admin.context import (
    ID,
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
    whole_number,
)
from bot.admin.forms import REQUIRED, ActionForm, ConsoleForm, ServiceForm
from intents.catalogue import CatalogueError, catalogue_from_mapping
from storage.models import Team
from storage.models_admin import CatalogueVersion

SOURCES = {"correction": "纠正订单", "console": "手工添加"}


class ExampleForm(ConsoleForm):
    service = SelectField("服务", validators=[DataRequired(REQUIRED)])
    text = StringField("居民的说法", validators=[DataRequired(REQUIRED), Length(max=store.MAX_EXAMPLE_CHARS)])


@bp.get("/catalogue")
@requires("catalogue.edit")
def catalogue_page() -> str:
    with reading() as s:
        cat = nlu(s).catalogue
        version = store.latest_version(s, hub_id())
        history = [{"version": v.version, "note": v.note or "", "by": v.created_by, "at": v.created_at,
                    "count": len(v.data.get("service", []))} for v in store.versions(s, hub_id())]
        # who is offered a service's orders: the hub's own teams that serve it (dispatch reads Team.services), not
        # the catalogue's suggested team name (only a default for registration)
        serving: dict[str, list[str]] = {}
        for name, codes in s.execute(select(Team.name, Team.services).where(Team.hub_id == hub_id())
                                     .order_by(Team.id)):
            for code in codes or ():
                serving.setdefault(str(code), []).append(name)
    items = [{"code": sv.code, "name": sv.name, "teams": "、".join(serving.get(sv.code, ())),
              "suggested": sv.team, "at_home": sv.at_home,
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


@bp.get("/catalogue/examples")
@requires("catalogue.edit")
def catalogue_examples() -> str:
    with reading() as s:
        cat = nlu(s).catalogue
        names = {sv.code: sv.name for sv in cat}

        def rows(removed: bool) -> list[dict[str, Any]]:
            return [{"id": e.id, "service": names.get(e.service_code, e.service_code), "text": e.text,
                     "source": SOURCES.get(e.source, e.source), "order": e.order_id, "by": e.created_by,
                     "at": e.created_at, "removed_by": e.removed_by, "removed_at": e.removed_at,
                     "offered": e.service_code in names}
                    for e in store.examples(s, hub_id(), removed=removed, limit=50 if removed else 500)]

        in_use, taken_back = rows(False), rows(True)
        version = store.examples_version(s, hub_id())
    form = ExampleForm()
    form.service.choices = [(sv.code, sv.name) for sv in cat]
    return render_template("admin/catalogue_examples.html", in_use=in_use, taken_back=taken_back, form=form,
                           action_form=ActionForm(), version=version,
                           semantic=services().semantic is not None)


@bp.post("/catalogue/examples")
@requires("catalogue.edit")
def catalogue_example_add() -> Any:
    back = url_for("admin.catalogue_examples")
    with reading() as s:
        cat = nlu(s).catalogue
    form = ExampleForm()
    form.service.choices = [(sv.code, sv.name) for sv in cat]
    if rejected(form):
        return redirect(back)

    def change(s: Session) -> str:
        row = store.add_example(s, hub_id(), form.service.data, form.text.data, catalogue=nlu(s).catalogue,
                                actor=staff().actor, now=now())
        return f"已记下：“{row.text}” 是【{cat.get(row.service_code).name}】，居民下一条消息就用上。"
    return run_change(change, back)


@bp.post(f"/catalogue/examples/<{ID}:example_id>/remove")
@requires("catalogue.edit")
def catalogue_example_remove(example_id: int) -> Any:
    order = whole_number(request.form.get("order"))  # the undo on an order's page goes back there
    back = url_for("admin.order_page", order_id=order) if order else url_for("admin.catalogue_examples")
    if rejected(ActionForm()):
        return redirect(back)

    def change(s: Session) -> str:
        row = store.remove_example(s, hub_id(), example_id, actor=staff().actor, now=now())
        return f"已撤销示例“{row.text}”。"
    return run_change(change, back)


@bp.post(f"/catalogue/examples/<{ID}:example_id>/restore")
@requires("catalogue.edit")
def catalogue_example_restore(example_id: int) -> Any:
    back = url_for("admin.catalogue_examples")
    if rejected(ActionForm()):
        return redirect(back)

    def change(s: Session) -> str:
        row = store.restore_example(s, hub_id(), example_id, actor=staff().actor, now=now())
        return f"已恢复示例“{row.text}”。"
    return run_change(change, back)
