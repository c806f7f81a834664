"""What a cooperative needs to run one Amtslotse for many Landkreise: an audit log that proves
itself (audit), tenants as a lifecycle (tenants), usage and costs per tenant (usage), and
data-protection requests and records (privacy_requests, records).

Each module is domain code: the CLI (cli/governance.py) and the staff API (web/admin_api.py)
only call it, and every write it makes is audited here, whatever the entry point.
"""
