"""The write side: command models, their handlers and the event-sourced application."""
