"""The contact-center domain: appeals and telephonograms (`appeals`), calls as records (`calls`,
`call_record`), requests with their SLA, assignment, works and acts (`requests`), the working calendar.
Pure rules plus their SQL: no web framework, Redis or vendor library."""
