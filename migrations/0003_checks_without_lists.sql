-- no-transaction
-- The same workflows table, with each rule on a fixed set of words written as
-- comparisons (x = 'a' or x = 'b' ...) instead of a list (x in ('a', 'b', 'c')). SQLite
-- checks a list of three or more by building a temporary index every time a row is
-- written, which cost more than the rest of saving a workflow. What the rules allow is
-- unchanged, NULL included.
--
-- SQLite cannot change a table's checks in place: the table is rebuilt. Foreign keys are
-- off while it is (dropping the old table would otherwise delete the votes on its rows),
-- and the rebuild is one transaction, so running it again after an interruption starts
-- from a whole table.
pragma foreign_keys = off;

begin immediate;

create table workflows_rebuilt (
    id integer primary key,
    scorecard_id integer not null references scorecards (id) on delete cascade,
    name text not null,
    -- the name lowercased: names are unique within a scorecard ignoring case.
    name_key text not null,
    team text not null default '',
    description text not null default '',
    -- entered spend in minor units; 0 when the spend is estimated from volumes.
    monthly_spend integer not null default 0 check (monthly_spend >= 0),
    -- spend from volumes: a catalog model and monthly token counts (all null otherwise).
    model text,
    monthly_input_tokens integer,
    monthly_output_tokens integer,
    target_model text,
    current_tier text not null
        check (current_tier = 'frontier' or current_tier = 'small' or current_tier = 'none'),
    owner text not null default '',
    metric text not null default '',
    next_step text not null default '',
    kill_criteria text not null default '',
    stakes integer not null default 0 check (stakes in (0, 1)),
    ambiguity integer not null default 0 check (ambiguity in (0, 1)),
    business_case integer not null default 0 check (business_case in (0, 1)),
    sensitive_data integer not null default 0 check (sensitive_data in (0, 1)),
    defended integer not null default 0 check (defended in (0, 1)),
    -- overrides: null when the computed value stands; a reason is required with one.
    tier_override text
        check (tier_override = 'frontier' or tier_override = 'small' or tier_override = 'none'),
    tier_override_reason text not null default '',
    verdict_override text
        check (verdict_override = 'fund' or verdict_override = 'pause' or verdict_override = 'kill'),
    verdict_override_reason text not null default '',
    -- bumped by every save, so a save made on a stale copy can be told apart.
    version integer not null default 1,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- set when the room has decided the workflow in the gate walk.
    decided integer not null default 0 check (decided in (0, 1))
);

insert into workflows_rebuilt (
    id, scorecard_id, name, name_key, team, description, monthly_spend, model,
    monthly_input_tokens, monthly_output_tokens, target_model, current_tier, owner, metric,
    next_step, kill_criteria, stakes, ambiguity, business_case, sensitive_data, defended,
    tier_override, tier_override_reason, verdict_override, verdict_override_reason, version,
    created_at, updated_at, decided
)
select
    id, scorecard_id, name, name_key, team, description, monthly_spend, model,
    monthly_input_tokens, monthly_output_tokens, target_model, current_tier, owner, metric,
    next_step, kill_criteria, stakes, ambiguity, business_case, sensitive_data, defended,
    tier_override, tier_override_reason, verdict_override, verdict_override_reason, version,
    created_at, updated_at, decided
from workflows;

drop table workflows;

alter table workflows_rebuilt rename to workflows;

create unique index workflows_scorecard_name on workflows (scorecard_id, name_key);

commit;

pragma foreign_keys = on;
