"""The `aquabill` command."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from aquabill.platform.config import Settings, apply_run_tuning

app = typer.Typer(help="Аквабилл: биллинг и обслуживание абонентов водоканалов.", no_args_is_help=True)
tenants_app = typer.Typer(help="Организации (тенанты).", no_args_is_help=True)
databases_app = typer.Typer(help="Базы данных для размещения организаций.", no_args_is_help=True)
users_app = typer.Typer(help="Пользователи организаций.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(databases_app, name="databases")
app.add_typer(users_app, name="users")


def _settings() -> Settings:
    from aquabill.devserver.run import with_dev_defaults

    settings = with_dev_defaults(Settings.from_env())
    apply_run_tuning(settings)  # the CLI's runs (bill, payments-import) use the same tuning as the worker's
    return settings


def _run(coro_fn):
    """Run `coro_fn(core)` with a Core opened from the environment, closing it afterwards."""
    from aquabill.platform.state import Core

    async def main():
        core = Core.open(_settings())
        try:
            return await coro_fn(core)
        finally:
            await core.close()

    return asyncio.run(main())


@app.command()
def dev() -> None:
    """Всё для разработки: локальные PostgreSQL и Redis (если не заданы URL), миграции, демо-организация,
    веб-приложение и обработчик заданий."""
    from aquabill.devserver.run import run_dev

    run_dev(Settings.from_env())


@app.command()
def serve(host: str = typer.Option(None), port: int = typer.Option(None)) -> None:
    """Веб-приложение в нескольких процессах (AQUABILL_WEB_WORKERS, по умолчанию по числу ядер);
    DATABASE_URL и REDIS_URL обязательны в эксплуатации."""
    import os

    import uvicorn

    from aquabill.platform.serving import APP_FACTORY, uvicorn_options, web_workers

    s = _settings()
    # Each worker process builds its app from the environment: hand it the URLs resolved here (the local
    # development servers when none were given).
    os.environ.update(DATABASE_URL=s.database_url, REDIS_URL=s.redis_url)
    uvicorn.run(APP_FACTORY, factory=True, workers=web_workers(s), host=host or s.host, port=port or s.port,
                **uvicorn_options(s))


@app.command()
def worker() -> None:
    """Обработчик фоновых заданий (arq)."""
    from aquabill.platform.jobs.worker import run_worker

    asyncio.run(run_worker(_settings()))


@app.command()
def migrate(
    jobs: int = typer.Option(None, "--jobs", "-j", help="Сколько схем мигрировать одновременно"),
    to: str = typer.Option("head", "--to", help="Целевая ревизия схем организаций"),
) -> None:
    """Миграции схемы control и схем всех организаций. Схемы, уже находящиеся на целевой ревизии,
    пропускаются одним запросом; ошибка одной организации не останавливает остальные."""
    from aquabill.tenants.provisioning import migrate_all

    def report(r) -> None:
        if r.skipped:
            return
        state = "ok" if r.ok else f"ОШИБКА: {r.error}"
        typer.echo(f"{r.slug:<30} {r.before or '-':>8} → {r.after or '-':<8} {r.seconds:6.2f} с  {state}")

    async def go(core):
        return await migrate_all(core.engines, jobs=jobs or core.settings.migrate_jobs, target=to, on_result=report)

    summary = _run(go)
    typer.echo(f"Итого: применено {len(summary.applied)}, без изменений {len(summary.skipped)}, "
               f"ошибок {len(summary.failed)}")
    if summary.failed:
        typer.echo("Организации с ошибками: " + ", ".join(r.slug for r in summary.failed), err=True)
        raise typer.Exit(1)


@tenants_app.command("create")
def tenants_create(
    slug: str,
    name: str = typer.Option(..., "--name", help="Наименование организации"),
    db: str = typer.Option("main", "--db", help="Ключ базы данных"),
    admin_login: str = typer.Option("admin", "--admin-login"),
    admin_password: str = typer.Option(None, "--admin-password", help="Создать администратора с этим паролем"),
) -> None:
    """Создать организацию: схему, таблицы, роли и (по желанию) администратора."""
    from aquabill.platform.auth.seed import admin_seeder
    from aquabill.tenants.migrator import migrate_control
    from aquabill.tenants.provisioning import create_tenant

    seed = admin_seeder(admin_login, admin_password) if admin_password else None

    async def go(core):
        await migrate_control(core.engines.control)
        return await create_tenant(core.engines, slug, name, db_key=db, seed=seed)

    try:
        tenant = _run(go)
    except Exception as exc:
        typer.echo(f"Ошибка: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Создана организация {tenant.slug} (схема {tenant.schema_name}, база {tenant.db_key})")


@tenants_app.command("list")
def tenants_list() -> None:
    """Список организаций."""
    from aquabill.tenants import registry

    async def go(core):
        async with core.engines.control.connect() as conn:
            return (await registry.list_tenants(conn))[0]

    for t in _run(go):
        typer.echo(f"{t.id:>5} {t.slug:<30} {t.status:<12} {t.schema_name:<32} {t.db_key:<10} {t.name}")


@databases_app.command("add")
def databases_add(key: str, url: str) -> None:
    """Зарегистрировать базу данных PostgreSQL для размещения организаций."""
    from aquabill.tenants import registry
    from aquabill.tenants.migrator import migrate_control

    async def go(core):
        await migrate_control(core.engines.control)
        async with core.engines.control.begin() as conn:
            await registry.register_database(conn, key, url)

    _run(go)
    typer.echo(f"База {key} зарегистрирована")


@users_app.command("create")
def users_create(
    tenant: str, login: str,
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True),
    full_name: str = typer.Option("", "--full-name"),
    role: list[str] = typer.Option(["operator"], "--role"),
) -> None:
    """Создать пользователя организации."""
    from aquabill.platform.auth import users as repo
    from aquabill.platform.auth.passwords import hash_password
    from aquabill.tenants import registry
    from aquabill.tenants.context import tenant_transaction

    async def go(core):
        async with core.engines.control.connect() as conn:
            t = await registry.by_slug(conn, tenant)
        if t is None:
            raise typer.BadParameter(f"организация {tenant} не найдена")
        async with tenant_transaction(core.engines, t) as conn:
            return await repo.create_user(conn, login=login, full_name=full_name, email=None,
                                          password_hash=hash_password(password), role_codes=role)

    typer.echo(f"Создан пользователь #{_run(go)}")


async def _tenant(core, slug: str):
    from aquabill.tenants import registry

    async with core.engines.control.connect() as conn:
        t = await registry.by_slug(conn, slug)
    if t is None or t.status != "active":
        raise typer.BadParameter(f"организация {slug} не найдена")
    return t


@app.command("import")
def import_(
    tenant: str,
    kind: str = typer.Argument(..., help="houses | accounts | parameters | tariffs | norms | meters | readings"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Файл CSV в UTF-8"),
    as_json: bool = typer.Option(False, "--json", help="Вывести отчёт в JSON"),
) -> None:
    """Загрузить файл CSV (одна транзакция на файл; повторная загрузка ничего не меняет). Код выхода: 0 —
    загружены все строки, 2 — часть строк с ошибками (остальные загружены), 1 — файл не загружен."""
    import json

    from aquabill.billing_core.imports import CsvFileError, import_csv
    from aquabill.tenants.context import tenant_transaction

    data = file.read_bytes()

    async def go(core):
        t = await _tenant(core, tenant)
        async with tenant_transaction(core.engines, t) as conn:
            return await import_csv(conn, kind, data)

    try:
        report = _run(go)
    except CsvFileError as exc:
        typer.echo(f"Файл не загружен: {exc}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for note in report.notes:
            typer.echo(note)
        for line in sorted(report.errors):
            typer.echo(f"строка {line}: {report.errors[line]}")
        for line in sorted(report.warnings):
            typer.echo(f"строка {line} (предупреждение): {report.warnings[line]}")
        typer.echo(report.summary())
    if report.errors:
        raise typer.Exit(2)


@app.command("payments-import")
def payments_import(
    tenant: str,
    agent: str = typer.Argument(..., help="Код платёжного агента (его формат и описание реестра)"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Реестр или выписка 1С"),
    as_json: bool = typer.Option(False, "--json", help="Вывести отчёт в JSON"),
) -> None:
    """Загрузить файл платежей агента (одна транзакция; повторная загрузка ничего не добавляет). Код выхода:
    0 — всё загружено, 2 — есть строки с ошибками или повторы, 1 — файл не принят."""
    import json

    from aquabill.base.errors import DomainError
    from aquabill.channels.bank_files.importer import import_payment_file
    from aquabill.tenants.context import tenant_transaction

    data = file.read_bytes()

    async def go(core):
        t = await _tenant(core, tenant)
        async with tenant_transaction(core.engines, t) as conn:
            return await import_payment_file(conn, agent, data, file_name=file.name)

    try:
        report = _run(go)
    except DomainError as exc:
        typer.echo(f"Файл не загружен: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(report.as_dict(max_errors=len(report.errors)), ensure_ascii=False, indent=2,
                              default=str))
    else:
        for note in report.notes:
            typer.echo(note)
        for e in report.errors:
            typer.echo(f"строка {e['line']}: {e['error']}" if "error" in e
                       else f"строка {e['line']} (предупреждение): {e['warning']}")
        typer.echo(f"файл {report.file_id}: строк {report.lines}, загружено {report.loaded} (неопознанных "
                   f"{report.unidentified}) на {report.amount} ₽, повторов {report.duplicates}, ошибок {report.failed}")
    if report.failed or report.duplicates:
        raise typer.Exit(2)


@app.command("bill")
def bill(
    tenant: str,
    period: str = typer.Option(..., "--period", help="Расчётный период ГГГГ-ММ"),
    house: int = typer.Option(None, "--house", help="Только дом с этим id"),
    account: str = typer.Option(None, "--account", help="Только этот лицевой счёт (номер)"),
) -> None:
    """Рассчитать начисления за месяц (по всей организации, дому или счёту). Повторный запуск открытого
    периода пересчитывает его заново; запуск закрытого — проводит разницу перерасчётом в открытом."""
    import json

    from sqlalchemy import text

    from aquabill.billing_core.payments.allocation import allocate_scope
    from aquabill.billing_core.periods import Period
    from aquabill.billing_core.run.compute import Scope
    from aquabill.billing_core.run.service import run_billing
    from aquabill.tenants.context import tenant_transaction

    try:
        p = Period.parse(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc

    async def progress(pct: float, msg: str) -> None:
        typer.echo(f"{pct:5.1f}%  {msg}")

    async def go(core):
        t = await _tenant(core, tenant)
        async with tenant_transaction(core.engines, t) as conn:
            scope = Scope()
            if house is not None:
                scope = Scope("house", house)
            if account is not None:
                acc_id = (await conn.execute(text("SELECT id FROM accounts WHERE number = :n"),
                                             {"n": account})).scalar()
                if acc_id is None:
                    raise typer.BadParameter(f"лицевой счёт {account} не найден")
                scope = Scope("account", acc_id)
            result = await run_billing(conn, p, scope, progress=progress)
        # committed: the scope's payments are spread over the new charges (as the billing job does)
        async with tenant_transaction(core.engines, t) as conn:
            await allocate_scope(conn, scope.kind, scope.id)
        return result

    result = _run(go)
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


@app.command("export")
def export(
    tenant: str,
    what: str = typer.Argument(..., help="charges"),
    period: str = typer.Option(..., "--period", help="Расчётный период ГГГГ-ММ"),
    out: Path = typer.Option(None, "--out", help="Файл (по умолчанию — стандартный вывод)"),
) -> None:
    """Выгрузить начисления периода в CSV (UTF-8 с BOM, разделитель «;»)."""
    from aquabill.billing_core.imports import export_charges
    from aquabill.billing_core.periods import Period
    from aquabill.tenants.context import tenant_transaction

    if what != "charges":
        raise typer.BadParameter("выгружаются только начисления: charges", param_hint="WHAT")
    try:
        month = Period.parse(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from exc

    async def go(core):
        t = await _tenant(core, tenant)
        stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
        try:
            async with tenant_transaction(core.engines, t) as conn:
                async for chunk in export_charges(conn, month):
                    stream.write(chunk)
        finally:
            if out:
                stream.close()

    _run(go)
    if out:
        typer.echo(f"Начисления за {month} выгружены в {out}", err=True)


@app.command("platform-admin")
def platform_admin(login: str, password: str = typer.Option(..., "--password", prompt=True, hide_input=True)) -> None:
    """Создать администратора платформы."""
    from aquabill.demo.tenant import ensure_platform_admin
    from aquabill.tenants.migrator import migrate_control

    async def go(core):
        await migrate_control(core.engines.control)
        return await ensure_platform_admin(core, login, password)

    typer.echo("Создан" if _run(go) else "Уже существует")


@app.command()
def services(action: str = typer.Argument(..., help="start | stop | status")) -> None:
    """Локальные PostgreSQL и Redis для разработки (./var)."""
    from aquabill.devserver.run import dev_postgres, dev_redis

    var = Path(Settings.from_env().var_dir)
    for svc in (dev_postgres(var), dev_redis(var)):
        name = type(svc).__name__
        if action == "start" and not svc.is_running():
            svc.start()
        elif action == "stop":
            svc.stop()
        typer.echo(f"{name}: {'работает' if svc.is_running() else 'остановлен'} ({svc.url})")


def main() -> None:
    app(prog_name="aquabill")


if __name__ == "__main__":
    sys.exit(main())
