% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<form method="get" action="/contacts" class="filters">
  <input name="q" value="{{f.q}}" aria-label="{{t('common.search')}}" placeholder="{{t('contact.f_search')}}">
  <label>{{t('contact.f_role')}}
    <select name="role">
      <option value="">{{t('common.all')}}</option>
      % for r in roles:
      <option value="{{r}}" {{'selected' if f.role == r else ''}}>{{t(role_keys[r])}}</option>
      % end
    </select>
  </label>
  % if user.is_staff:
  <label>{{t('contact.f_agent')}}
    <select name="agent">
      <option value="">{{t('common.all')}}</option>
      <option value="{{no_agent}}" {{'selected' if f.agent == no_agent else ''}}>{{t('contact.no_agent')}}</option>
      % for a in agents:
      <option value="{{a['id']}}" {{'selected' if f.agent == str(a['id']) else ''}}>{{a['name'] or a['phone']}}{{(' · ' + a['agent_code']) if a['agent_code'] else ''}}</option>
      % end
    </select>
  </label>
  % end
  <label>{{t('contact.f_tag')}}
    <input name="tag" value="{{f.tag}}" list="contact-tags" size="12">
    <datalist id="contact-tags">
      % for tg in tags:
      <option value="{{tg}}">
      % end
    </datalist>
  </label>
  <label>{{t('cab.consent')}}
    <select name="consent">
      <option value="">{{t('common.all')}}</option>
      % for st in consent_states:
      <option value="{{st}}" {{'selected' if f.consent == st else ''}}>{{t(consent_keys[st])}}</option>
      % end
    </select>
  </label>
  <button type="submit">{{t('common.search')}}</button>
  % if f.active:
  <a href="/contacts">{{t('contact.f_clear')}}</a>
  % end
  % if user.is_staff:
  <a href="/contacts/export.csv">CSV</a>
  <a href="/contacts/import">{{t('imp.link')}}</a>
  % end
</form>
% if not rows:
<p class="muted">{{t('common.none')}}</p>
% else:
<div class="table"><table>
<thead><tr><th>{{t('common.name')}}</th><th>{{t('common.phone')}}</th>
% if user.is_staff:
<th>{{t('contact.f_agent')}}</th>
% end
<th>{{t('cab.consent')}}</th></tr></thead>
<tbody>
% for c in rows:
<tr class="{{'muted' if c['opted_out_at'] else ''}}"><td><a href="/contacts/{{c['id']}}">{{c['name'] or '—'}}</a></td><td>{{c['phone']}}</td>
% if user.is_staff:
<td>{{agent_names.get(c['agent_id'], '—') if c['agent_id'] else '—'}}</td>
% end
<td>{{t('opt.since') if c['opted_out_at'] else (t('common.yes') if c['consent_advertising'] else t('common.no'))}}</td></tr>
% end
</tbody></table></div>
% end
<p class="paging">
% if f.offset > 0:
<a href="/contacts?{{f.query(max(0, f.offset - page_size))}}" rel="prev">{{t('contact.newer')}}</a>
% end
% if more:
<a href="/contacts?{{f.query(f.offset + page_size)}}" rel="next">{{t('common.older')}}</a>
% end
</p>
