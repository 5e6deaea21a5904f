fn this is not rust and lives in target/, which is skipped
