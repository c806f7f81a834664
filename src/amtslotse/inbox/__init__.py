"""The inbox (DESIGN, flow 3): incoming messages are read, sorted and prepared; staff decide.

Triage (this package's pure functions over text and the tenant's config)::

    from amtslotse.inbox.triage import triage

    result = triage("Ich lege Widerspruch gegen den Bescheid vom 03.11.2026 ein.")
    result.category, result.flags, result.team   # ('widerspruch', ('frist',), 'Widerspruchsstelle')

Modules: intake (accept a message), handover (a chat becomes a message), mail and imap,
attachments (read in a bounded worker), classify (linear model), flags (urgent-flag rules),
fields (extraction), routing (team rules), checklists (documents still needed), triage (all
together), processing (the worker: attachments, triage, draft), review (staff decisions). The
categories and a tenant's `[inbox]` table live in `amtslotse.categories` (below tenants.py,
which reads the table through it). Import each name from its module.
"""
