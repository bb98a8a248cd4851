% rebase('layout.tpl', title=title)
<p><a href="/contacts">{{t('common.back')}}</a></p>
<h1>{{title}}</h1>
% if report is not None:
<section class="card import-report">
% if done:
<h2>{{t('imp.done')}}</h2>
% else:
<h2>{{t('imp.dry_run')}}</h2>
% end
% if report.error:
<p class="error" role="alert">{{report.path.name}}: {{report.error}}</p>
% else:
<p class="small muted">{{t('imp.file_info', name=report.path.name, encoding=report.encoding, delimiter='TAB' if report.delimiter == '\t' else report.delimiter)}}</p>
<section class="stats">
  <div class="stat"><span class="label">{{t('row.created')}}</span><span class="value" id="n-created">{{report.count('created')}}</span></div>
  <div class="stat"><span class="label">{{t('row.updated')}}</span><span class="value" id="n-updated">{{report.count('updated')}}</span></div>
  <div class="stat"><span class="label">{{t('row.unchanged')}}</span><span class="value" id="n-unchanged">{{report.count('unchanged')}}</span></div>
  <div class="stat"><span class="label">{{t('row.skipped')}}</span><span class="value" id="n-skipped">{{report.count('skipped')}}</span></div>
  <div class="stat"><span class="label">{{t('common.total')}}</span><span class="value" id="n-rows">{{len(report.rows)}}</span></div>
</section>
% if not done and upload is not None:
% if report.count('created') or report.count('updated'):
<form method="post" action="/contacts/import/{{upload.token}}" class="stack confirm-import">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <input type="hidden" name="action" value="import">
  <button type="submit">{{t('imp.confirm', created=report.count('created'), updated=report.count('updated'))}}</button>
</form>
% else:
<p class="notice">{{t('imp.nothing')}}</p>
% end
% end
% if len(rows) < len(report.rows):
<p class="small muted">{{t('imp.shown', shown=len(rows), total=len(report.rows))}}</p>
% end
% if rows:
<div class="table report"><table>
<thead><tr><th>{{t('imp.line')}}</th><th>{{t('common.phone')}}</th><th>{{t('imp.outcome')}}</th><th>{{t('imp.reason')}}</th></tr></thead>
<tbody>
% for r in rows:
<tr class="{{r.action}}"><td>{{r.line}}</td><td class="nowrap">{{r.phone}}</td><td>{{t('row.' + r.action)}}</td><td>{{r.reason}}</td></tr>
% end
</tbody></table></div>
% end
% end
</section>
% if not done and upload is not None and headers:
<section class="card">
<h2>{{t('imp.mapping')}}</h2>
<p class="small muted">{{t('imp.mapping_help')}}</p>
<form method="post" action="/contacts/import/{{upload.token}}" class="mapping">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <input type="hidden" name="action" value="check">
  <div class="cards">
  % for f in fields:
  <label>{{t('field.' + f)}} <span class="small muted">({{f}})</span>
    <select name="map_{{f}}">
      <option value="">{{t('imp.unmapped')}}</option>
      % for h in headers:
      <option value="{{h}}" {{'selected' if report.mapping.get(f) == h else ''}}>{{h}}</option>
      % end
    </select>
  </label>
  % end
  </div>
  <button type="submit" class="secondary">{{t('imp.recheck')}}</button>
</form>
</section>
% end
% end
<section class="card">
% if report is not None:
<h2>{{t('imp.another')}}</h2>
% end
<p class="small">{{t('imp.help', mb=max_mb)}}</p>
<form method="post" action="/contacts/import" enctype="multipart/form-data" class="stack upload-form">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('imp.file')}}<input type="file" name="file" accept=".csv,.txt,text/csv" required></label>
  <button type="submit">{{t('imp.check')}}</button>
</form>
</section>
