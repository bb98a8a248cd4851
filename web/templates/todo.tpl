% rebase('layout.tpl', title=t(title_key))
<h1>{{t(title_key)}}</h1>
<p>{{t('todo.text', module=module)}}</p>
