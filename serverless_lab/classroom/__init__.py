"""The classroom: a class on one shared backend, on a JupyterHub or on laptops.

Modules: identity (who the student is: the hub's user, or $SERVERLESS_LAB_STUDENT), progress_store (every
check result, recorded in a DynamoDB table of the instructor's namespace), progress (the instructor's view
of it: exercises by students, who is stuck), inventory (what each student has deployed, read once for the
whole class), operations (class-wide bring-up, reset and removal, each planned first), hub (a JupyterHub
for the class), course_export (the course as an nbgrader course). The class's backend itself is
backends/classroom.py.

Nothing is imported here: each module is imported where it is used, so a kernel that only records a
check result does not pay for the hub's or nbgrader's modules.
"""
