"""The worker process: the scheduler, its jobs and lock, and the outbox sender (the only room that sends).

It talks to WeChat through bot/channels and to the database through storage/.
"""
