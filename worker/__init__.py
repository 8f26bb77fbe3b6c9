"""RQ workers: run the handlers of build, oebuild, test and plan events and persist outcomes."""
