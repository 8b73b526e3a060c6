"""synesthesia.pipelines."""
