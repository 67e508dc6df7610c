# Owned by the database terminals (agent/src/db, services/lib/guard's SQL and
# Redis guards): the agent's account sync and session users and the guards in
# front of the real clients, against private mariadbd and redis-server
# instances (unix sockets in a temporary directory; the machine's servers are
# never touched). Needs the packages of scripts/apt/db.txt.
#   db-test  scripts/node-test.sh test/db
.PHONY: db-test

db-test:
	scripts/node-test.sh test/db

TEST_SUITES += db-test
