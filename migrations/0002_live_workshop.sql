-- the live workshop: a revision per scorecard, the history of every change, the gate
-- walk's shared position, and silent votes.

-- bumped by every change to a scorecard; pages carry it so a reconnecting page can tell
-- whether it missed something.
alter table scorecards add column revision integer not null default 0;

-- the workflow the gate walk is on, shared by everyone following it.
alter table scorecards add column walk_workflow_id integer;

-- set when the room has decided the workflow in the gate walk.
alter table workflows add column decided integer not null default 0 check (decided in (0, 1));

-- one row per change: who, when, what, and each field's before and after. rows outlive
-- the workflows they describe (no foreign key on workflow_id), so a deleted workflow can
-- be restored from its snapshot.
create table changes (
    id integer primary key,
    scorecard_id integer not null references scorecards (id) on delete cascade,
    workflow_id integer,
    workflow_name text not null default '',
    actor text not null,
    at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- added, edited, deleted, restored, imported, settings, link rotated, vote
    action text not null,
    -- json: [{"field": "owner", "before": "", "after": "Ada"}, ...]
    diff text not null default '[]',
    -- json object of the workflow's csv cells, kept for deletions
    snapshot text,
    note text not null default ''
);

create index changes_by_scorecard on changes (scorecard_id, id);
create index changes_by_workflow on changes (scorecard_id, workflow_id, id);

-- a silent vote on one workflow's verdict. ballots stay hidden until revealed_at is set.
create table votes (
    id integer primary key,
    scorecard_id integer not null references scorecards (id) on delete cascade,
    workflow_id integer not null references workflows (id) on delete cascade,
    opened_by text not null,
    opened_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    revealed_at text
);

create index votes_by_workflow on votes (workflow_id, id);

create table ballots (
    vote_id integer not null references votes (id) on delete cascade,
    -- a random id kept in the participant's cookie: one ballot per browser.
    participant text not null,
    voter_name text not null,
    verdict text not null check (verdict in ('fund', 'pause', 'kill')),
    cast_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    primary key (vote_id, participant)
);
