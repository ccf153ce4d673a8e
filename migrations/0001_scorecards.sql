-- scorecards and their workflows.
--
-- money is stored as integer minor units of the scorecard's currency; computed values
-- (recommended tier, verdict, flags, leakage, score) are never stored: they are derived
-- from these rows on every read.

create table scorecards (
    id integer primary key,
    name text not null,
    -- iso 4217 code; the minor units follow from it.
    currency text not null default 'USD',
    -- the small-to-frontier cost ratio in parts per million (100000 = 0.10).
    small_ratio_ppm integer not null default 100000
        check (small_ratio_ppm between 0 and 1000000),
    -- capability links: 256 random bits each, base64url. rotating one replaces it.
    edit_token text not null unique,
    view_token text not null unique,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

create table workflows (
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
    current_tier text not null check (current_tier in ('frontier', 'small', 'none')),
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
    tier_override text check (tier_override in ('frontier', 'small', 'none')),
    tier_override_reason text not null default '',
    verdict_override text check (verdict_override in ('fund', 'pause', 'kill')),
    verdict_override_reason text not null default '',
    -- bumped by every save, so a save made on a stale copy can be told apart.
    version integer not null default 1,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

create unique index workflows_scorecard_name on workflows (scorecard_id, name_key);
