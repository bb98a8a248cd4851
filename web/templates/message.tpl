% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
% if text:
<p>{{text}}</p>
% end
<p><a href="/">{{t('common.back')}}</a></p>
