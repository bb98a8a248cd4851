% rebase('layout.tpl', title=t('login.title'))
<section class="login card">
<h1>{{t('login.title')}}</h1>
<form method="post" action="/login">
  <input type="hidden" name="csrf" value="{{login_csrf}}">
  <input type="hidden" name="next" value="{{next}}">
  <label>{{t('login.username')}}<input name="username" value="{{username}}" autocomplete="username" required autofocus></label>
  <label>{{t('login.password')}}<input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">{{t('login.submit')}}</button>
</form>
</section>
