"""Russian and English words of the web page: `translator(lang)` gives `t(key, **values)`.

Russian first (the office's language), English second. A key missing from the table is shown as itself, and a
test checks every key the templates and handlers use is present in both languages.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("ru", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # layout and navigation
    "app.title": ("СМС-шлюз", "SMS gateway"),
    "nav.dashboard": ("Модемы", "Modems"),
    "nav.compose": ("Рассылка", "Compose"),
    "nav.campaigns": ("Кампании", "Campaigns"),
    "nav.contacts": ("Контакты", "Contacts"),
    "nav.inbox": ("Входящие", "Inbox"),
    "nav.outbox": ("Отправленные", "Sent"),
    "nav.orders": ("Заказы", "Orders"),
    "nav.optouts": ("Отписки", "Opt-outs"),
    "nav.uncertain": ("Под вопросом", "Uncertain"),
    "nav.users": ("Пользователи", "Users"),
    "nav.settings": ("Настройки", "Settings"),
    "nav.audit": ("Журнал", "Audit log"),
    "nav.cabinet": ("Мой кабинет", "My cabinet"),
    "nav.phones": ("Телефоны (демо)", "Phones (demo)"),
    "nav.logout": ("Выйти", "Log out"),
    "nav.lang": ("English", "Русский"),
    "nav.menu": ("Меню", "Menu"),
    # login
    "login.title": ("Вход", "Sign in"),
    "login.username": ("Имя пользователя", "User name"),
    "login.password": ("Пароль", "Password"),
    "login.submit": ("Войти", "Sign in"),
    "login.failed": ("Неверное имя пользователя или пароль.", "Invalid user name or password."),
    "login.locked": ("Слишком много неудачных попыток. Попробуйте через {minutes} мин.",
                     "Too many failed attempts. Try again in {minutes} min."),
    "login.expired": ("Сеанс истёк, войдите снова.", "Your session expired; please sign in again."),
    "login.csrf": ("Страница устарела, попробуйте ещё раз.", "The page was stale; please try again."),
    # common
    "common.save": ("Сохранить", "Save"),
    "common.send": ("Отправить", "Send"),
    "common.search": ("Найти", "Search"),
    "common.filter": ("Показать", "Filter"),
    "common.all": ("все", "all"),
    "common.none": ("Пока ничего нет.", "Nothing here yet."),
    "common.older": ("Ещё →", "Older →"),
    "common.phone": ("Телефон", "Phone"),
    "common.name": ("Имя", "Name"),
    "common.text": ("Текст", "Text"),
    "common.state": ("Состояние", "State"),
    "common.when": ("Когда", "When"),
    "common.actions": ("Действия", "Actions"),
    "common.error": ("Ошибка", "Error"),
    "common.yes": ("да", "yes"),
    "common.no": ("нет", "no"),
    "common.delete": ("Удалить", "Delete"),
    "common.kind": ("Вид сообщения", "Message kind"),
    "common.service": ("служебное (заказы, ответы)", "service (orders, replies)"),
    "common.advertising": ("реклама (только с согласием)", "advertising (consent required)"),
    "common.parts": ("частей SMS", "SMS parts"),
    "common.chars": ("символов", "characters"),
    "common.saved": ("Сохранено.", "Saved."),
    "common.forbidden": ("Недостаточно прав для этого действия.", "You are not allowed to do this."),
    "common.not_found": ("Не найдено.", "Not found."),
    "common.bad_request": ("Неверный запрос", "Bad request"),
    "common.back": ("← Назад", "← Back"),
    "common.total": ("Всего", "Total"),
    # states
    "state.queued": ("в очереди", "queued"),
    "state.sending": ("отправляется", "sending"),
    "state.sent": ("отправлено", "sent"),
    "state.delivered": ("доставлено", "delivered"),
    "state.undelivered": ("не доставлено", "undelivered"),
    "state.failed": ("ошибка", "failed"),
    "state.cancelled": ("отменено", "cancelled"),
    "state.uncertain": ("под вопросом", "uncertain"),
    "state.held": ("ждёт проверки", "held"),
    "state.new": ("новое", "new"),
    "state.handled": ("обработано", "handled"),
    "state.inbox": ("ждёт ответа", "waiting"),
    "state.review": ("возможная отписка", "possible opt-out"),
    "state.read": ("прочитано", "read"),
    "state.ignored": ("служебное", "ignored"),
    "state.online": ("на связи", "online"),
    "state.offline": ("не подключён", "offline"),
    "state.connecting": ("подключается", "connecting"),
    "state.error": ("ошибка", "error"),
    # dashboard
    "dash.title": ("Модемы и очередь", "Modems and queue"),
    "dash.signal": ("Сигнал", "Signal"),
    "dash.operator": ("Оператор", "Operator"),
    "dash.registration": ("Регистрация", "Registration"),
    "dash.sim": ("SIM", "SIM"),
    "dash.identity": ("IMEI / модель", "IMEI / model"),
    "dash.sent_today": ("Отправлено сегодня", "Sent today"),
    "dash.caps": ("лимиты: {minute}/мин, {hour}/час, {day}/день", "caps: {minute}/min, {hour}/hour, {day}/day"),
    "dash.last_error": ("Последняя ошибка", "Last error"),
    "dash.last_seen": ("Последний отклик", "Last seen"),
    "dash.queue": ("Очередь", "Queue"),
    "dash.today": ("Сегодня", "Today"),
    "dash.inbox_waiting": ("Входящие ждут ответа", "Inbound awaiting a reply"),
    "dash.review": ("Возможные отписки", "Possible opt-outs"),
    "dash.no_modems": ("Модемы ещё не подключались. Проверьте кабель и раздел [[modems]] в config.toml.",
                       "No modem has connected yet. Check the cable and [[modems]] in config.toml."),
    "dash.live": ("Обновляется автоматически", "Refreshes automatically"),
    # outbox and uncertain
    "out.title": ("Исходящие сообщения", "Outbound messages"),
    "out.attempts": ("Попыток", "Attempts"),
    "unc.title": ("Сообщения под вопросом", "Uncertain messages"),
    "unc.help": ("Шлюз перезапустился во время отправки: сообщение могло уйти, а могло и нет. "
                 "Отправьте повторно или отмените.",
                 "The gateway restarted mid-send: the message may or may not have left. Resend it or drop it."),
    "unc.resend": ("Отправить снова", "Resend"),
    "unc.drop": ("Отменить", "Drop"),
    "unc.done": ("Готово.", "Done."),
    # inbox
    "in.title": ("Входящие", "Inbox"),
    "in.waiting_only": ("Только ждущие ответа", "Only awaiting a reply"),
    "in.thread": ("Переписка с {phone}", "Conversation with {phone}"),
    "in.reply": ("Ответить", "Reply"),
    "in.mark_read": ("Отметить прочитанным", "Mark as read"),
    "in.sent_ok": ("Ответ поставлен в очередь.", "The reply is queued."),
    "in.partial": ("(неполное: части потерялись)", "(incomplete: parts were lost)"),
    "in.waiting": ("ждут", "waiting"),
    # opt-outs
    "opt.title": ("Отписки", "Opt-outs"),
    "opt.review": ("Похоже на отписку — решите", "Looks like an opt-out — decide"),
    "opt.confirm": ("Отписать", "Opt out"),
    "opt.dismiss": ("Это не отписка", "Not an opt-out"),
    "opt.add": ("Отписать номер вручную", "Opt a number out by hand"),
    "opt.since": ("Отписан", "Opted out"),
    "opt.done": ("Номер отписан от рассылок.", "The number is opted out of bulk messages."),
    # users
    "users.title": ("Пользователи", "Users"),
    "users.add": ("Добавить пользователя", "Add a user"),
    "users.role": ("Роль", "Role"),
    "users.agent": ("Агент (контакт)", "Agent (contact)"),
    "users.disabled": ("Отключён", "Disabled"),
    "users.new_password": ("Новый пароль", "New password"),
    "users.unlock": ("Снять блокировку входа", "Unlock sign-in"),
    "users.exists": ("Такой пользователь уже есть.", "That user already exists."),
    "users.last_admin": ("Нельзя убрать последнего администратора.", "The last admin cannot be removed."),
    "users.need_agent": ("Агенту нужен связанный контакт-агент.", "An agent user needs a linked agent contact."),
    "role.admin": ("администратор", "admin"),
    "role.operator": ("оператор", "operator"),
    "role.agent": ("агент", "agent"),
    # settings
    "set.title": ("Настройки", "Settings"),
    "set.quiet": ("Тихие часы (реклама не уходит)", "Quiet hours (no bulk messages)"),
    "set.quiet_tx": ("Тихие часы и для служебных", "Quiet hours apply to service messages too"),
    "set.pacing": ("Темп отправки по модемам", "Pacing per modem"),
    "set.from_config": ("Значения по умолчанию задаются в файле {path}; то, что сохранено здесь, важнее.",
                        "The defaults come from {path}; what is saved here wins over them."),
    "set.applies_soon": ("Изменения тихих часов и темпа подхватываются модемами при следующей проверке связи "
                         "(не позже чем через 30 секунд), перезапуск не нужен.",
                         "Changes to quiet hours and pacing reach the modems at their next health check "
                         "(within 30 seconds); no restart is needed."),
    "set.saved_soon": ("Сохранено. Модемы применят это в течение 30 секунд.",
                       "Saved. The modems apply it within 30 seconds."),
    "source.profile": ("из профиля модема", "modem profile"),
    "source.config": ("из файла настроек", "config file"),
    "source.saved": ("сохранено здесь", "saved here"),
    "set.config_value": ("В файле настроек", "In the config file"),
    "set.quiet_start": ("Начало", "Start"),
    "set.quiet_end": ("Конец", "End"),
    "set.quiet_off": ("Начало совпадает с концом: тихих часов нет.", "Start equals end: no quiet hours."),
    "set.quiet_ignored": ("Сохранённые тихие часы неверны и не действуют; действуют значения из файла настроек.",
                          "The saved quiet hours are invalid and ignored; the config file's apply."),
    "set.quiet_bad": ("Тихие часы не сохранены: {reason}", "Quiet hours not saved: {reason}"),
    "set.reset_to_config": ("Вернуть значения из файла", "Back to the config's values"),
    "set.pacing_help": ("Сколько частей SMS модем отправляет в минуту, час и сутки. Пустое поле — значение из "
                        "файла настроек или профиля модема.",
                        "How many SMS parts a modem sends per minute, hour and day. A blank field means the "
                        "config file's or the modem profile's value."),
    "set.profile": ("профиль", "profile"),
    "set.per_minute": ("в минуту", "per minute"),
    "set.per_hour": ("в час", "per hour"),
    "set.per_day": ("в сутки", "per day"),
    "set.not_configured": ("Этого модема нет в файле настроек: он не отправляет.",
                           "This modem is not in the config file: it does not send."),
    "set.unseen": ("Описаны в файле, но ещё не подключались", "Configured but not seen yet"),
    "set.pacing_bad": ("Темп модема {modem} не сохранён: {reason}", "Pacing of {modem} not saved: {reason}"),
    "set.pacing_unconfigured": ("Модема {modem} нет в файле настроек; его темп не задать.",
                                "{modem} is not in the config file; its pacing cannot be set."),
    "set.pacing_order": ("Темп модема {modem} не сохранён: нужно «в минуту» ≤ «в час» ≤ «в сутки».",
                         "Pacing of {modem} not saved: per minute ≤ per hour ≤ per day is required."),
    "set.api_keys": ("Ключи API", "API keys"),
    "set.new_key": ("Новый ключ", "New key"),
    "set.key_shown_once": ("Скопируйте ключ сейчас — больше он показан не будет:",
                           "Copy the key now — it will not be shown again:"),
    "set.revoke": ("Отозвать", "Revoke"),
    "set.webhooks": ("Вебхуки", "Webhooks"),
    "set.webhook_url": ("Адрес (http/https)", "URL (http/https)"),
    "set.webhook_events": ("События", "Events"),
    "set.webhook_secret": ("Секрет для подписи (HMAC-SHA256):", "Signing secret (HMAC-SHA256):"),
    "set.bad_url": ("Нужен адрес вида http://… или https://…", "Enter an http://… or https://… URL"),
    "set.pending": ("в очереди", "pending"),
    "set.agent_cap": ("Лимит сообщений агента в день", "Agent messages per day"),
    "set.timezone": ("Часовой пояс офиса", "Office time zone"),
    # audit
    "audit.title": ("Журнал действий", "Audit log"),
    "audit.actor": ("Кто", "Who"),
    "audit.action": ("Действие", "Action"),
    "audit.target": ("Объект", "Target"),
    "audit.detail": ("Подробности", "Details"),
    # compose
    "compose.title": ("Новая рассылка", "New message"),
    "compose.numbers": ("Номера (по одному в строке, или через запятую)", "Numbers (one per line, or commas)"),
    "compose.template": ("Текст сообщения", "Message text"),
    "compose.recipients": ("Получателей", "Recipients"),
    "compose.total_parts": ("Всего частей", "Total parts"),
    "compose.schedule": ("Отправить в (пусто — сейчас)", "Send at (empty: now)"),
    "compose.queued": ("Поставлено в очередь сообщений: {n}.", "{n} message(s) queued."),
    "compose.bad_numbers": ("Неверные номера: {numbers}", "Invalid numbers: {numbers}"),
    "compose.no_numbers": ("Укажите хотя бы один номер.", "Enter at least one number."),
    "compose.empty": ("Текст сообщения пуст.", "The message text is empty."),
    "compose.bad_time": ("Время не распознано: нужен формат ГГГГ-ММ-ДДTЧЧ:ММ.", "Time not understood: use YYYY-MM-DDTHH:MM."),
    "compose.preview": ("Так увидит получатель", "What the recipient sees"),
    "compose.encoding_gsm": ("латиница (GSM-7)", "Latin (GSM-7)"),
    "compose.encoding_ucs2": ("кириллица/эмодзи (UCS-2)", "Cyrillic/emoji (UCS-2)"),
    "compose.segment": ("Сегмент", "Segment"),
    "compose.tags": ("Метки (через запятую)", "Tags (comma-separated)"),
    "compose.csv": ("или CSV-файл с номерами", "or a CSV file of numbers"),
    # cabinet
    "cab.title": ("Мой кабинет", "My cabinet"),
    "cab.customers": ("Мои клиенты", "My customers"),
    "cab.send": ("Написать моим клиентам", "Message my customers"),
    "cab.choose": ("Отметьте клиентов", "Tick the customers"),
    "cab.cap": ("Сегодня отправлено {sent} из {cap}.", "Sent today: {sent} of {cap}."),
    "cab.over_cap": ("Дневной лимит исчерпан: можно ещё {left}.", "Daily limit reached: {left} left."),
    "cab.not_yours": ("Это не ваш клиент.", "That is not your customer."),
    "cab.no_link": ("Ваша учётная запись не связана с агентом; обратитесь к администратору.",
                    "Your account is not linked to an agent; ask the admin."),
    "cab.consent": ("Согласие на рекламу", "Advertising consent"),
    "cab.bonus": ("Бонусный баланс", "Bonus balance"),
    "cab.orders": ("Мои заказы", "My orders"),
    # phone panel
    "ph.title": ("Виртуальные телефоны", "Virtual phones"),
    "ph.help": ("Выберите телефон, отправьте с него SMS на номер шлюза (например, заказ) и посмотрите ответ.",
                "Pick a phone, send an SMS from it to the gateway's number (e.g. an order) and watch the reply."),
    "ph.pick": ("Телефон", "Phone"),
    "ph.other": ("или другой номер", "or another number"),
    "ph.to": ("Кому (номер шлюза)", "To (the gateway's number)"),
    "ph.received": ("Получено телефоном", "Received by the phone"),
    "ph.unavailable": ("Симулятор недоступен.", "The simulator is not reachable."),
    "ph.examples": ("Примеры: «ЗАКАЗ 12345 2», «БАЛАНС», «СТОП»", "Examples: \"ORDER 12345 2\", \"BAL\", \"STOP\""),
    # campaigns
    "camp.progress": ("Ход", "Progress"),
    "camp.targeted": ("Выбрано", "Targeted"),
    "camp.replied": ("Ответили", "Replied"),
    "camp.opted_out": ("Отписались", "Opted out"),
    "camp.skipped": ("Пропущены", "Skipped"),
    "camp.poll": ("Итоги опроса", "Poll tally"),
    "camp.start": ("Запустить", "Start"),
    "camp.pause": ("Приостановить", "Pause"),
    "camp.resume": ("Продолжить", "Resume"),
    "camp.cancel": ("Отменить кампанию", "Cancel the campaign"),
    "camp.override": ("Разрешить (администратор)", "Allow (admin)"),
    "camp.legal_ok": ("Согласие получателей на рекламу записано, правила прочитаны",
                      "Recipients' advertising consent is on record; I have read the rules"),
    "camp.draft": ("черновик", "draft"),
    "camp.scheduled": ("запланирована", "scheduled"),
    "camp.running": ("идёт", "running"),
    "camp.paused": ("приостановлена", "paused"),
    "camp.held": ("ждёт разрешения", "held"),
    "camp.done": ("завершена", "done"),
    "camp.cancelled": ("отменена", "cancelled"),
    "compose.to_numbers": ("По номерам", "To numbers"),
    "compose.to_segment": ("Сегменту (кампания)", "To a segment (campaign)"),
    "compose.role": ("Кому", "Who"),
    "compose.role_customer": ("клиенты", "customers"),
    "compose.role_agent": ("агенты", "agents"),
    "compose.agent": ("Клиенты агента", "An agent's customers"),
    "compose.name": ("Название кампании", "Campaign name"),
    "compose.create": ("Создать кампанию", "Create the campaign"),
    # contacts
    "contact.notes": ("Заметки", "Notes"),
    "contact.consent_history": ("История согласий", "Consent history"),
    "contact.source": ("Источник", "Source"),
    # pending features
    "todo.title": ("Раздел ещё не готов", "Not ready yet"),
    "todo.text": ("Эта часть появится, когда будет готов её модуль ({module}).",
                  "This part arrives once its module ({module}) is ready."),
    # errors
    "err.host": ("Неизвестное имя сервера.", "Unknown host name."),
}


def translator(lang: str) -> Callable[..., str]:
    """The `t(key, **values)` function for a language ('ru' or 'en')."""
    index = 1 if lang == "en" else 0

    def t(key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t


def pick_language(accept_language: str | None) -> str:
    """'en' or 'ru' from an Accept-Language header (Russian unless English is preferred)."""
    best, best_q = "ru", -1.0
    for item in (accept_language or "").split(","):
        piece = item.strip().split(";")
        tag = piece[0].strip().lower()[:2]
        q = 1.0
        for param in piece[1:]:
            if param.strip().startswith("q="):
                try:
                    q = float(param.strip()[2:])
                except ValueError:
                    q = 0.0
        if tag in LANGS and q > best_q:
            best, best_q = tag, q
    return best
