"""What each command does, callable alone: the services between the CLI and the stages.

A service takes a request (:class:`~voiceguide.app.session.SessionRequest`), puts the stages
together and reports through callbacks; it never parses arguments, prints for the user or exits.
"""
