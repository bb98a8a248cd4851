<!doctype html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · {{office}}</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body data-csrf="{{csrf}}" data-lang="{{lang}}">
<header class="top">
  <a class="brand" href="/">{{office}}</a>
  % if user:
  <details class="menu" open>
    <summary>{{t('nav.menu')}}</summary>
    <nav>
    % items = []
    % if user.is_staff:
    %   items += [('/', 'nav.dashboard'), ('/compose', 'nav.compose'), ('/campaigns', 'nav.campaigns'), ('/contacts', 'nav.contacts'), ('/inbox', 'nav.inbox'), ('/outbox', 'nav.outbox'), ('/orders', 'nav.orders'), ('/optouts', 'nav.optouts'), ('/uncertain', 'nav.uncertain')]
    % end
    % if user.role == 'operator':
    %   items += [('/settings', 'nav.settings')]
    % end
    % if user.is_agent:
    %   items += [('/cabinet', 'nav.cabinet'), ('/contacts', 'nav.contacts'), ('/orders', 'nav.orders'), ('/inbox', 'nav.inbox'), ('/outbox', 'nav.outbox')]
    % end
    % if user.is_admin:
    %   items += [('/users', 'nav.users'), ('/settings', 'nav.settings'), ('/audit', 'nav.audit')]
    % end
    % if demo and user.is_staff:
    %   items += [('/phones', 'nav.phones')]
    % end
    % for href, key in items:
      <a href="{{href}}" class="{{'here' if (path == href or (href != '/' and path.startswith(href + '/'))) else ''}}">{{t(key)}}</a>
    % end
    </nav>
  </details>
  <div class="who">
    <span class="username">{{user.username}}</span>
    <form method="post" action="/lang" class="inline">
      <input type="hidden" name="csrf" value="{{csrf}}">
      <input type="hidden" name="next" value="{{path}}">
      <input type="hidden" name="lang" value="{{'en' if lang == 'ru' else 'ru'}}">
      <button type="submit" class="link">{{t('nav.lang')}}</button>
    </form>
    <form method="post" action="/logout" class="inline">
      <input type="hidden" name="csrf" value="{{csrf}}">
      <button type="submit" class="link">{{t('nav.logout')}}</button>
    </form>
  </div>
  % end
</header>
<main>
% if notice:
<p class="notice" role="status">{{notice}}</p>
% end
% if error:
<p class="error" role="alert">{{error}}</p>
% end
{{!base}}
</main>
</body>
</html>
