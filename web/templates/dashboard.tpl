% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<p class="muted small">{{t('dash.live')}}</p>
<div id="dashboard" data-refresh="/ui/dashboard.part" data-every="5000">
% include('dashboard_part.tpl')
</div>
