"""What each field of a goal means: declared once, for ``GoalSpec`` (the request object the
CLI, the web and the API build) and the CLI's help, which must load without the rest."""

GOAL_FIELD_HELP = {
    "metric": "metric id (northstar metrics list)",
    "target": "'>= 3000', '<= 150', '3.7..4.2', '+10%' or N",
    "objectives": "objective ids it serves",
    "start": "default: the current period's start",
    "deadline": "default: the objective's end",
    "grain": "day|week|month|quarter|year",
    "where": "segment, e.g. plan = 'pro'",
    "baseline": "override the computed baseline",
    "plan": "linear|seasonal",
    "owner": "who answers for it",
    "note": "why this goal",
    "goal_id": "id (default: metric-deadline)",
}
