// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// The console's Mustache templates, compiled into the binary so that `floe` stays one self-contained file. Every
/// page extends `layout` (`{{<layout}}{{$content}}…{{/content}}{{/layout}}`); forms that change anything carry the
/// session's CSRF token as `_csrf`.
enum ConsoleTemplates {
    static let all: [(String, String)] = [
        ("layout", layout), ("login", login), ("error", error), ("environments", environments), ("compute_pools", computePools),
        ("compute_pool_new", computePoolNew), ("compute_pool_edit", computePoolEdit), ("statements", statements),
        ("statement_detail", statementDetail), ("api_keys", apiKeys), ("api_key_wizard", apiKeyWizard), ("api_key_created", apiKeyCreated),
        ("workspace", workspace),
    ]

    static let layout = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Floe</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        {{#signed_in}}<meta name="csrf-token" content="{{csrf}}">{{/signed_in}}
        <script src="/console/assets/console.js" defer></script>
        </head>
        <body{{#refresh}} data-refresh="2000"{{/refresh}}>
        <header class="top">
          <a class="brand" href="/">Floe <span>Flink SQL</span></a>
          {{#signed_in}}
          <nav class="crumbs"><a href="/environments">Environments</a>{{#environment}} <span>›</span> <a href="/environments/{{id}}">{{name}}</a> <span>›</span> Flink{{/environment}}</nav>
          <div class="who">
            <span id="principal" title="{{session_principal_id}}">{{session_principal}}</span>
            <form id="sign-out" method="post" action="/logout"><input type="hidden" name="_csrf" value="{{csrf}}"><button id="sign-out-button" type="submit" class="link">Sign out</button></form>
          </div>
          {{/signed_in}}
        </header>
        <main>
        {{#environment}}
        <h1>{{name}} <small>{{id}}</small></h1>
        <nav class="tabs">
          <a id="tab-compute-pools" href="/environments/{{id}}/flink/compute-pools"{{#tab_compute_pools}} class="active"{{/tab_compute_pools}}>Compute pools</a>
          <a id="tab-statements" href="/environments/{{id}}/flink/statements"{{#tab_statements}} class="active"{{/tab_statements}}>Statements</a>
          <a id="tab-api-keys" href="/environments/{{id}}/flink/api-keys"{{#tab_api_keys}} class="active"{{/tab_api_keys}}>API keys</a>
          <a id="tab-workspace" href="/environments/{{id}}/flink/workspace"{{#tab_workspace}} class="active"{{/tab_workspace}}>SQL workspace</a>
        </nav>
        {{/environment}}
        {{#flash_notice}}<p class="flash-notice">{{flash_notice}}</p>{{/flash_notice}}
        {{#flash_error}}<p class="flash-error">{{flash_error}}</p>{{/flash_error}}
        {{$content}}{{/content}}
        </main>
        </body>
        </html>
        """#

    static let login = #"""
        {{<layout}}{{$content}}
        <section class="card narrow">
          <h1>Sign in</h1>
          <p class="muted">Use a Cloud API key and its secret. The key's owner is <em>My account</em> in the console. A new server's
          administrator key is in <code>bootstrap.json</code> in its data directory.</p>
          <form id="login-form" method="post" action="/login">
            <input type="hidden" name="_csrf" value="{{csrf}}">
            {{#next}}<input type="hidden" name="next" value="{{next}}">{{/next}}
            <label>API key <input id="key" name="key" value="{{key}}" autocomplete="username" required autofocus></label>
            <label>API secret <input id="secret" name="secret" type="password" autocomplete="current-password" required></label>
            <div class="buttons"><button id="sign-in" type="submit">Sign in</button></div>
          </form>
        </section>
        {{/content}}{{/layout}}
        """#

    static let error = #"""
        {{<layout}}{{$content}}
        <section class="card narrow error-page">
          <h1><span id="error-status">{{status}}</span> {{title}}</h1>
          <p id="error-detail">{{detail}}</p>
          <p><a href="/">Back to the console</a></p>
        </section>
        {{/content}}{{/layout}}
        """#

    static let environments = #"""
        {{<layout}}{{$content}}
        <h1>Environments</h1>
        <table id="environments">
          <thead><tr><th>Name</th><th>ID</th><th>Stream Governance</th><th>Created</th></tr></thead>
          <tbody>
          {{#environments}}<tr data-id="{{id}}"><td><a class="environment-link" href="/environments/{{id}}">{{name}}</a></td><td><code>{{id}}</code></td><td>{{package}}</td><td>{{created}}</td></tr>
          {{/environments}}
          </tbody>
        </table>
        {{^any}}<p class="empty">There is no environment you have a role in.</p>{{/any}}
        {{#can_create}}
        <section class="card">
          <h2>Add environment</h2>
          <form id="create-environment" method="post" action="/environments" class="row">
            <input type="hidden" name="_csrf" value="{{csrf}}">
            <label>Name <input name="display_name" value="{{new_name}}" required maxlength="64"></label>
            <label>Stream Governance package <select name="package"><option value="ESSENTIALS">Essentials</option><option value="ADVANCED">Advanced</option></select></label>
            <div class="buttons"><button id="create-environment-button" type="submit">Create environment</button></div>
          </form>
        </section>
        {{/can_create}}
        {{/content}}{{/layout}}
        """#

    static let computePools = #"""
        {{<layout}}{{$content}}
        <div class="bar"><h2>Compute pools</h2>{{#can_manage}}<a id="create-pool-link" class="button" href="/environments/{{environment.id}}/flink/compute-pools/new">Add compute pool</a>{{/can_manage}}</div>
        <table id="compute-pools">
          <thead><tr><th>Name</th><th>ID</th><th>Cloud</th><th>Region</th><th>Phase</th><th>CFU (current / max)</th><th>Created</th><th></th></tr></thead>
          <tbody>
          {{#pools}}<tr data-id="{{id}}"><td class="name">{{name}}</td><td><code>{{id}}</code></td><td>{{cloud}}</td><td>{{region}}</td><td class="phase"><span class="phase-badge phase-{{phase}}">{{phase}}</span></td><td class="cfu">{{current_cfu}} / {{max_cfu}}</td><td>{{created}}</td>
            <td class="actions">{{#can_manage}}<a class="edit-pool" href="/environments/{{environment.id}}/flink/compute-pools/{{id}}/edit">Edit</a>
              <form class="delete-pool inline" method="post" action="/environments/{{environment.id}}/flink/compute-pools/{{id}}/delete" data-confirm="Delete compute pool {{name}} ({{id}})? Its statements stop."><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" class="danger">Delete</button></form>{{/can_manage}}</td></tr>
          {{/pools}}
          </tbody>
        </table>
        {{^any}}<p class="empty">No compute pools yet.{{#can_manage}} Add one to run statements.{{/can_manage}}</p>{{/any}}
        {{/content}}{{/layout}}
        """#

    static let computePoolNew = #"""
        {{<layout}}{{$content}}
        <section class="card">
          <h2>Add compute pool</h2>
          <form id="create-pool" method="post" action="/environments/{{environment.id}}/flink/compute-pools">
            <input type="hidden" name="_csrf" value="{{csrf}}">
            <label>Name <input name="display_name" value="{{name}}" required maxlength="64"></label>
            <label>Cloud provider and region <select name="region">{{#regions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/regions}}</select></label>
            <label>Maximum CFU <input name="max_cfu" type="number" min="1" value="{{max_cfu}}" required></label>
            <div class="buttons"><button id="create-pool-button" type="submit">Create</button> <a href="/environments/{{environment.id}}/flink/compute-pools">Cancel</a></div>
          </form>
        </section>
        {{/content}}{{/layout}}
        """#

    static let computePoolEdit = #"""
        {{<layout}}{{$content}}
        <section class="card">
          <h2>Edit compute pool <code>{{id}}</code></h2>
          <p class="muted">{{cloud}} {{region}}</p>
          <form id="edit-pool" method="post" action="/environments/{{environment.id}}/flink/compute-pools/{{id}}">
            <input type="hidden" name="_csrf" value="{{csrf}}">
            <label>Name <input name="display_name" value="{{name}}" required maxlength="64"></label>
            <label>Maximum CFU <input name="max_cfu" type="number" min="1" value="{{max_cfu}}" required></label>
            <div class="buttons"><button id="save-pool-button" type="submit">Save</button> <a href="/environments/{{environment.id}}/flink/compute-pools">Cancel</a></div>
          </form>
        </section>
        {{/content}}{{/layout}}
        """#

    static let statements = #"""
        {{<layout}}{{$content}}
        <div class="bar"><h2>Statements</h2><a class="button" href="/environments/{{environment.id}}/flink/workspace">Open SQL workspace</a></div>
        <form id="statement-filter" method="get" action="/environments/{{environment.id}}/flink/statements" class="row filter">
          <label>Name or SQL contains <input name="q" value="{{q}}"></label>
          <label>Phase <select name="phase"><option value="">Any</option>{{#phases}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/phases}}</select></label>
          <label>Compute pool <input name="compute_pool" value="{{compute_pool}}" placeholder="lfcp-…"></label>
          <div class="buttons"><button type="submit">Filter</button></div>
        </form>
        <p class="muted">{{shown}} of {{total}} statements</p>
        <table id="statements">
          <thead><tr><th>Name</th><th>Phase</th><th>SQL</th><th>Compute pool</th><th>Principal</th><th>Created</th></tr></thead>
          <tbody>
          {{#statements}}<tr data-name="{{name}}"><td><a class="statement-link" href="/environments/{{environment.id}}/flink/statements/{{name}}">{{name}}</a></td><td class="phase"><span class="phase-badge phase-{{phase}}">{{phase}}</span></td><td><code class="sql">{{sql}}</code></td><td>{{pool}}</td><td>{{principal}}</td><td>{{created}}</td></tr>
          {{/statements}}
          </tbody>
        </table>
        {{^any}}<p class="empty">No statements match.</p>{{/any}}
        {{/content}}{{/layout}}
        """#

    static let statementDetail = #"""
        {{<layout}}{{$content}}
        <div class="bar"><h2>Statement <code>{{name}}</code></h2>
          <div class="actions">
          {{#can_stop}}<form id="stop-statement" class="inline" method="post" action="/environments/{{environment.id}}/flink/statements/{{name}}/stop"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Stop</button></form>{{/can_stop}}
          {{#can_resume}}<form id="resume-statement" class="inline" method="post" action="/environments/{{environment.id}}/flink/statements/{{name}}/resume"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Resume</button></form>{{/can_resume}}
          {{#can_delete}}<form id="delete-statement" class="inline" method="post" action="/environments/{{environment.id}}/flink/statements/{{name}}/delete" data-confirm="Delete statement {{name}}?"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" class="danger">Delete</button></form>{{/can_delete}}
          </div>
        </div>
        <dl class="facts">
          <dt>Phase</dt><dd><span id="statement-phase" class="phase-badge phase-{{phase}}">{{phase}}</span></dd>
          {{#has_detail}}<dt>Detail</dt><dd id="statement-detail">{{detail}}</dd>{{/has_detail}}
          <dt>Compute pool</dt><dd>{{pool}}</dd>
          <dt>Principal</dt><dd>{{principal}}</dd>
          <dt>Created</dt><dd>{{created}}</dd>
        </dl>
        <h3>SQL</h3>
        <pre id="statement-sql">{{sql}}</pre>
        <div class="columns">
          <section><h3>Properties</h3>
            <table id="statement-properties"><tbody>{{#properties}}<tr><th>{{key}}</th><td><code>{{value}}</code></td></tr>{{/properties}}</tbody></table>
            {{^any_properties}}<p class="empty">None.</p>{{/any_properties}}</section>
          <section><h3>Traits</h3>
            <table id="statement-traits"><tbody>{{#traits}}<tr><th>{{label}}</th><td>{{value}}</td></tr>{{/traits}}</tbody></table></section>
          <section><h3>Schema</h3>
            <table id="statement-schema"><thead><tr><th>Column</th><th>Type</th></tr></thead><tbody>{{#columns}}<tr><td>{{name}}</td><td><code>{{type}}</code></td></tr>{{/columns}}</tbody></table>
            {{^any_columns}}<p class="empty">No result columns.</p>{{/any_columns}}</section>
        </div>
        <h3>Exceptions</h3>
        <div id="statement-exceptions">
          {{#any_exceptions}}<table><thead><tr><th>Time</th><th>Name</th><th>Message</th></tr></thead><tbody>{{#exceptions}}<tr><td>{{timestamp}}</td><td>{{name}}</td><td>{{message}}</td></tr>{{/exceptions}}</tbody></table>{{/any_exceptions}}
          {{^any_exceptions}}<p class="empty">None.</p>{{/any_exceptions}}
        </div>
        {{#any_columns}}
        <h3>Results</h3>
        <p class="muted" id="results-status"></p>
        <div class="results"><table id="results" data-live-results data-environment="{{environment.id}}" data-statement="{{name}}" data-status="results-status"><thead></thead><tbody></tbody></table></div>
        {{/any_columns}}
        {{/content}}{{/layout}}
        """#

    static let apiKeys = #"""
        {{<layout}}{{$content}}
        <div class="bar"><h2>API keys</h2><a id="add-api-key" class="button" href="/environments/{{environment.id}}/flink/api-keys/new">Add API key</a></div>
        <p class="muted">Flink API keys are valid on the statements API of one cloud region in this environment.</p>
        <table id="api-keys">
          <thead><tr><th>Key</th><th>Name</th><th>Description</th><th>Owner</th><th>Resource scope</th><th>Created</th><th></th></tr></thead>
          <tbody>
          {{#keys}}<tr data-id="{{id}}"><td><code>{{id}}</code></td><td>{{name}}</td><td>{{description}}</td><td>{{owner}}</td><td>{{scope}}</td><td>{{created}}</td>
            <td class="actions"><form class="delete-api-key inline" method="post" action="/environments/{{environment.id}}/flink/api-keys/{{id}}/delete" data-confirm="Delete API key {{id}}? Clients using it stop working."><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" class="danger">Delete</button></form></td></tr>
          {{/keys}}
          </tbody>
        </table>
        {{^any}}<p class="empty">No Flink API keys you can see in this environment.</p>{{/any}}
        {{/content}}{{/layout}}
        """#

    static let apiKeyWizard = #"""
        {{<layout}}{{$content}}
        <section class="card wizard">
          <h2>Add API key</h2>
          <ol class="steps">
            <li{{#step_owner}} class="current"{{/step_owner}}>Account</li>
            <li{{#step_scope}} class="current"{{/step_scope}}>Resource scope</li>
            <li{{#step_details}} class="current"{{/step_details}}>Name and description</li>
            <li>Download and complete</li>
          </ol>
          {{#wizard_error}}<p class="flash-error">{{wizard_error}}</p>{{/wizard_error}}
          <dl class="facts">{{#summary}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/summary}}</dl>
          {{#step_owner}}
          <form id="wizard-owner" method="post" action="/environments/{{environment.id}}/flink/api-keys/new">
            <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="step" value="owner">
            {{#carried}}<input type="hidden" name="{{name}}" value="{{value}}">{{/carried}}
            <fieldset>
              <legend>Who will own the key?</legend>
              <label class="choice"><input type="radio" name="owner" value="me"{{#owner_me}} checked{{/owner_me}}> <strong>My account</strong> <span class="muted">The key acts as {{session_principal}}, with your roles.</span></label>
              {{#offer_service_accounts}}
              <label class="choice"><input type="radio" name="owner" value="service-account"{{#owner_sa}} checked{{/owner_sa}}> <strong>Service account</strong> <span class="muted">For applications and pipelines; the key acts with the account's roles.</span></label>
              <div class="indent" data-show-when="owner=service-account">
                {{#offer_existing}}
                <label class="choice"><input type="radio" name="sa_mode" value="existing"{{#mode_existing}} checked{{/mode_existing}}> Existing account</label>
                <div class="indent" data-show-when="sa_mode=existing"><label>Service account <select name="service_account_id">{{#service_accounts}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}} ({{id}})</option>{{/service_accounts}}</select></label></div>
                {{/offer_existing}}
                {{#offer_new}}
                <label class="choice"><input type="radio" name="sa_mode" value="new"{{#mode_new}} checked{{/mode_new}}> Create a new one</label>
                <div class="indent" data-show-when="sa_mode=new">
                  <label>Name <input name="sa_name" value="{{sa_name}}" maxlength="64"></label>
                  <label>Description <input name="sa_description" value="{{sa_description}}" maxlength="128"></label>
                  <label>Role in {{environment.name}} <select name="sa_role">{{#roles}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/roles}}</select></label>
                </div>
                {{/offer_new}}
              </div>
              {{/offer_service_accounts}}
            </fieldset>
            <div class="buttons"><button id="wizard-next" type="submit" name="direction" value="next">Next</button> <a href="/environments/{{environment.id}}/flink/api-keys">Cancel</a></div>
          </form>
          {{/step_owner}}
          {{#step_scope}}
          <form id="wizard-scope" method="post" action="/environments/{{environment.id}}/flink/api-keys/new">
            <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="step" value="scope">
            {{#carried}}<input type="hidden" name="{{name}}" value="{{value}}">{{/carried}}
            <fieldset>
              <legend>Resource scope</legend>
              <p class="muted">A Flink API key is valid on the statements API of one cloud region in {{environment.name}}.</p>
              <div class="row">{{#clouds}}<label class="choice"><input type="radio" name="cloud" value="{{value}}"{{#checked}} checked{{/checked}}> {{label}}</label>{{/clouds}}</div>
              <label>Region <select name="region" data-filter-by="cloud">{{#regions}}<option value="{{region}}" data-cloud="{{cloud}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/regions}}</select></label>
            </fieldset>
            <div class="buttons"><button id="wizard-next" type="submit" name="direction" value="next">Next</button> <button type="submit" name="direction" value="back" class="secondary" formnovalidate>Back</button></div>
          </form>
          {{/step_scope}}
          {{#step_details}}
          <form id="wizard-details" method="post" action="/environments/{{environment.id}}/flink/api-keys" data-submit-once>
            <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="step" value="details">
            {{#carried}}<input type="hidden" name="{{name}}" value="{{value}}">{{/carried}}
            <fieldset>
              <legend>Name and description</legend>
              <label>Name <input name="name" value="{{name}}" maxlength="64"></label>
              <label>Description <input name="description" value="{{description}}" maxlength="128"></label>
            </fieldset>
            <div class="buttons"><button id="create-api-key" type="submit">Create API key</button> <button type="submit" name="direction" value="back" class="secondary" formaction="/environments/{{environment.id}}/flink/api-keys/new" formnovalidate>Back</button></div>
          </form>
          {{/step_details}}
        </section>
        {{/content}}{{/layout}}
        """#

    static let apiKeyCreated = #"""
        {{<layout}}{{$content}}
        <section class="card wizard">
          <h2>API key created</h2>
          <ol class="steps"><li>Account</li><li>Resource scope</li><li>Name and description</li><li class="current">Download and complete</li></ol>
          {{#notes}}<p class="flash-notice">{{.}}</p>{{/notes}}
          <p class="warning">Copy or download the secret now. Floe keeps only a hash of it and cannot show it again.</p>
          <dl class="facts secret">
            <dt>API key</dt><dd><code id="api-key">{{key}}</code></dd>
            <dt>API secret</dt><dd><code id="api-secret">{{secret}}</code></dd>
            <dt>Resource scope</dt><dd>{{scope}}</dd>
            <dt>Owner</dt><dd>{{owner}}</dd>
          </dl>
          <pre id="api-key-file" hidden>{{file}}</pre>
          <div class="buttons"><a id="download-api-key" class="button" href="#" download="{{filename}}" data-file-from="api-key-file">Download API key</a> <a id="wizard-complete" class="button secondary" href="/environments/{{environment.id}}/flink/api-keys">Complete</a></div>
        </section>
        {{/content}}{{/layout}}
        """#

    static let workspace = #"""
        {{<layout}}{{$content}}
        <div class="workspace" data-workspace data-environment="{{environment.id}}">
          {{^any_pools}}<p class="flash-error">There is no compute pool you can use in this environment. Add one on the Compute pools tab.</p>{{/any_pools}}
          <div class="row">
            <label>Compute pool <select id="workspace-pool">{{#pools}}<option value="{{id}}">{{label}}</option>{{/pools}}</select></label>
            <label>Catalog <input id="workspace-catalog" value="{{catalog}}"></label>
            <label>Database <input id="workspace-database" value="{{database}}"></label>
          </div>
          <textarea id="sql-editor" spellcheck="false" rows="8" placeholder="SELECT * FROM `examples`.`marketplace`.`orders`"></textarea>
          <div class="buttons">
            <button id="run-statement" type="button" title="Ctrl+Enter">Run</button>
            <button id="stop-statement" type="button" class="secondary" disabled>Stop</button>
            <span class="muted">Statement <span id="workspace-statement-name">–</span> <span id="workspace-phase" class="phase-badge"></span> <a id="workspace-statement-link" target="_blank" rel="noopener" hidden>Details</a></span>
          </div>
          <p id="workspace-error" class="flash-error" hidden></p>
          <p id="workspace-status" class="muted"></p>
          <div class="results"><table id="workspace-results"><thead></thead><tbody></tbody></table></div>
        </div>
        {{/content}}{{/layout}}
        """#
}
