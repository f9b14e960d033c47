"""The public catalog: courses open for enrollment, searched, filtered, paged and cached."""
