"""Background work on rq: the queue facade, jobs, cron schedule and worker entry point."""
